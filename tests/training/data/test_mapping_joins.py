"""Lookup tables joined onto the leads (``[[joins]]``): matched columns become profile columns, unmatched
leads are counted and refused above the limit, duplicated lookup keys are refused naming them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from training.cli import app
from training.data.io import load_dataset
from training.data.mapping import MappingConfigError, import_export, load_mapping
from training.data.validation import DataValidationError

LEADS = """
id,Created,Account,Won
l1,2024-01-02,A1,yes
l2,2024-01-03,A2,no
l3,2024-01-04,a1 ,no
l4,2024-01-05,,no
"""
ACCOUNTS = """
Id,Industry,Employees,Region
A1,Retail,120,EU
A2,Software,n/a,US
A3,Banking,5000,EU
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def _config(
    tmp_path: Path,
    join: str = "",
    accounts: str = ACCOUNTS,
    leads: str = LEADS,
    rename: str = '{ Employees = "company_size" }',
) -> Path:
    _write(tmp_path / "leads.csv", leads)
    _write(tmp_path / "accounts.csv", accounts)
    join = join or 'max_unmatched_share = 0.5\nknown_at = { Region = "after_contact" }'
    return _write(
        tmp_path / "crm.toml",
        f"""
name = "joined"
observed_until = 2025-01-01
[leads]
file = "leads.csv"
lead_id = "id"
created_at = "Created"
[leads.values]
Account = {{ "a1" = "A1" }}
[outcome]
status_column = "Won"
status_values = {{ yes = "won", no = "lost" }}
[[joins]]
file = "accounts.csv"
on = "Account"
key = "Id"
categorical = ["Industry", "Region"]
numeric = ["Employees"]
prefix = "account_"
rename = {rename}
missing = ["n/a"]
{join}
""",
    )


def test_lookup_columns_join_onto_leads_as_profile_columns(tmp_path: Path) -> None:
    # l3's key has a trailing space and is lower case: stripped, yet unmatched (keys compare as text);
    # l4 has no key at all.
    summary = import_export(_config(tmp_path), tmp_path / "d", mode="strict")
    dataset, _ = load_dataset(tmp_path / "d")
    leads = dataset.leads.set_index("lead_id")
    assert leads.loc["l1", "account_Industry"] == "Retail"
    assert leads.loc["l1", "company_size"] == 120.0
    assert leads.loc["l2", "account_Industry"] == "Software" and pd.isna(leads.loc["l2", "company_size"])
    assert pd.isna(leads.loc["l3", "account_Industry"]) and pd.isna(leads.loc["l4", "account_Region"])
    metadata = dataset.metadata
    assert {"account_Industry", "account_Region"} <= set(metadata.categorical_columns)
    assert "company_size" in metadata.numeric_columns
    assert metadata.known_at == {"account_Region": "after_contact"}
    [joined] = summary.joins
    assert (joined.leads, joined.matched, joined.unmatched, joined.without_key) == (4, 2, 1, 1)
    assert joined.unmatched_share == pytest.approx(1 / 3)
    table = dict(summary.to_table())
    assert table["joined accounts.csv on Account"] == (
        "2 of 4 leads matched; 1 unmatched (33.3% of those with a key), 1 without a key"
    )
    assert table["rows in accounts.csv"] == "3"


def test_unmatched_share_under_the_limit_imports_over_it_fails_naming_file_key_count_share(
    tmp_path: Path,
) -> None:
    leads = LEADS.replace("a1 ,", "A1,")  # now only l4 (no key) fails to match: 0 of 3 unmatched
    summary = import_export(_config(tmp_path, "max_unmatched_share = 0.0", leads=leads), tmp_path / "d")
    assert summary.joins[0].unmatched == 0
    # The default limit (5%): one unmatched lead of three with a key is 33%.
    with pytest.raises(MappingConfigError) as caught:
        import_export(_config(tmp_path, "# default limit"), tmp_path / "e")
    message = str(caught.value)
    assert "key 'joins.0'" in message and "accounts.csv" in message and "'Account'" in message
    assert "1 of 3 leads of leads.csv (33.3%)" in message and "'Id'" in message
    assert "(e.g. 'a1')" in message and "max_unmatched_share = 5.0%" in message
    assert not (tmp_path / "e").exists()


def test_duplicated_lookup_keys_are_refused_naming_them_and_the_file(tmp_path: Path) -> None:
    accounts = ACCOUNTS + "A2,Media,10,US\nA3,Banking,5000,EU\n"
    with pytest.raises(MappingConfigError) as caught:
        import_export(_config(tmp_path, accounts=accounts), tmp_path / "d")
    message = str(caught.value)
    assert "key 'joins.0.key'" in message and "accounts.csv has 2 'Id' values on more than one row" in message
    assert "'A2' at rows 2, 4" in message and "'A3' at rows 3, 5" in message


def test_cli_import_shows_the_join_and_exits_2_on_a_bad_join(tmp_path: Path) -> None:
    runner = CliRunner()
    config = _config(tmp_path)
    result = runner.invoke(app, ["import", "--mapping", str(config), "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "joined accounts.csv on Account" in result.output
    duplicated = _config(tmp_path, accounts=ACCOUNTS + "A1,Media,10,US\n")
    result = runner.invoke(app, ["import", "--mapping", str(duplicated), "--out", str(tmp_path / "e")])
    assert result.exit_code == 2 and "one row per key" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("join", "message"),
    [
        (
            'known_at = { Nope = "after_contact" }',
            r"'joins\.0\.known_at\.Nope': is not a categorical or numeric",
        ),
        ("max_unmatched_share = 1.5", r"'joins\.0\.max_unmatched_share'"),
    ],
)
def test_bad_join_settings_are_refused_naming_the_key(tmp_path: Path, join: str, message: str) -> None:
    with pytest.raises(MappingConfigError, match=message):
        load_mapping(_config(tmp_path, join))
    with pytest.raises(MappingConfigError, match=r"'joins\.0\.rename'.*reserves"):
        load_mapping(_config(tmp_path, rename='{ Industry = "created_at" }'))


def test_joined_names_may_not_clash_with_profile_columns(tmp_path: Path) -> None:
    config = _config(tmp_path, rename='{ Employees = "company_size", Industry = "Account" }')
    text = config.read_text().replace(
        'created_at = "Created"', 'created_at = "Created"\ncategorical = ["Account"]'
    )
    config.write_text(text)
    with pytest.raises(MappingConfigError, match=r"key 'joins\.0'.*'Industry'.*would be called 'Account'"):
        load_mapping(config)


def test_joined_column_problem_names_the_lookup_file(tmp_path: Path) -> None:
    accounts = ACCOUNTS.replace("A1,Retail,120", "A1,Retail,lots")
    with pytest.raises(DataValidationError) as caught:
        import_export(_config(tmp_path, accounts=accounts), tmp_path / "d", mode="strict")
    assert "Employees (from accounts.csv)" in str(caught.value)
    assert "cannot parse 'lots' as a number" in str(caught.value)


def test_typed_keys_match_their_text_form(tmp_path: Path) -> None:
    # A lookup exported from a spreadsheet: numeric ids with a ".0"; the leads file has "7".
    leads = "id,Created,Account,Won\nl1,2024-01-02,7,yes\nl2,2024-01-03,8,no\n"
    config = _config(tmp_path, leads=leads)
    (tmp_path / "accounts.csv").write_text("Id,Industry,Region,Employees\n7.0,Retail,EU,1\n8.0,Media,US,2\n")
    summary = import_export(config, tmp_path / "d", mode="strict")
    assert summary.joins[0].matched == 2
