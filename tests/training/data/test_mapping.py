"""Mapping configs: the shared real datasets import with their documented counts, synthetic exports
exercise the format (events log, status column, renames, dates), bad configs and dirty rows are named."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from training.cli import app
from training.data.contract import METADATA_FILE, REJECTS_FILE, DatasetMetadata, TimeBasis
from training.data.io import load_dataset
from training.data.mapping import ImportSummary, MappingConfigError, import_export, load_mapping
from training.data.reject_cap import TooManyRejectsError
from training.data.validation import DataValidationError

MAPPINGS = Path(__file__).resolve().parents[3] / "data" / "mappings"
OLIST_LEADS = "olist_marketing_funnel/olist_marketing_qualified_leads_dataset.csv"
OLIST_DEALS = "olist_marketing_funnel/olist_closed_deals_dataset.csv"


def _leads(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "leads.parquet")


def _metadata(out: Path) -> DatasetMetadata:
    return DatasetMetadata.from_json((out / METADATA_FILE).read_text())


# --- the shared real datasets ---------------------------------------------------------------------


def test_olist_imports_won_deals_by_join_without_leaking_deal_columns(
    shared_datasets: Path, tmp_path: Path
) -> None:
    out = tmp_path / "olist"
    summary = import_export(MAPPINGS / "olist.toml", out, data_root=shared_datasets)
    assert summary.rows == {OLIST_LEADS: 8000, OLIST_DEALS: 842}
    # One deal was won two days before its MQL's first contact: quarantined with its lead.
    assert summary.leads == 7999
    assert summary.outcome_counts == {"won": 841, "lost": 0, "open": 7158}
    assert summary.outcome_rate == pytest.approx(841 / 7999)
    rejects = pd.read_csv(out / REJECTS_FILE, dtype=str).set_index("file")
    assert summary.rejects == len(rejects) == 2
    assert rejects.loc[OLIST_DEALS, ["row", "column"]].tolist() == ["668", "won_date"]
    assert rejects.loc[OLIST_LEADS, "row"] == "6358"
    assert '"won_date": "2018-03-06 19:38:55"' in rejects.loc[OLIST_DEALS, "record"]
    assert summary.time_basis == "timestamps"
    leads = _leads(out)
    # Columns that exist only for won deals would leak the outcome.
    closed_deal_only = {
        "seller_id",
        "sdr_id",
        "sr_id",
        "business_segment",
        "lead_type",
        "lead_behaviour_profile",
        "has_company",
        "has_gtin",
        "average_stock",
        "business_type",
        "declared_product_catalog_size",
        "declared_monthly_revenue",
        "won_date",
    }
    assert not closed_deal_only & set(leads.columns)
    assert set(leads.columns) >= {"lead_id", "created_at", "lead_source", "landing_page"}
    assert leads["lead_source"].isna().sum() == 60 + 1099  # empty + "unknown"
    metadata = _metadata(out)
    assert metadata.categorical_columns == ["lead_source", "landing_page"]
    assert metadata.observed_until == pd.Timestamp("2018-11-14 18:04:19", tz="UTC")  # the last won_date
    outcomes = pd.read_parquet(out / "outcomes.parquet")
    assert len(outcomes) == 7999 and outcomes["closed_at"].notna().sum() == 841


def test_olist_strict_import_names_the_closed_deals_row_and_column(
    shared_datasets: Path, tmp_path: Path
) -> None:
    with pytest.raises(DataValidationError) as caught:
        import_export(MAPPINGS / "olist.toml", tmp_path / "olist", mode="strict", data_root=shared_datasets)
    assert [(p.file, p.row, p.column) for p in caught.value.problems] == [(OLIST_DEALS, 668, "won_date")]


def test_bank_marketing_imports_in_row_order_without_duration(shared_datasets: Path, tmp_path: Path) -> None:
    out = tmp_path / "bank"
    summary = import_export(MAPPINGS / "bank_marketing.toml", out, data_root=shared_datasets)
    assert summary.leads == 41188
    assert summary.outcome_counts == {"won": 4640, "lost": 36548, "open": 0}
    assert summary.outcome_rate == pytest.approx(0.1127, abs=5e-4)
    assert summary.rejects == 0
    assert summary.time_basis == "row_order"
    leads = _leads(out)
    assert "duration" not in leads.columns
    assert "y" not in leads.columns
    assert leads["lead_id"].iloc[0] == "bank-1"
    assert leads["pdays"].isna().sum() == 39673  # 999 = never contacted
    assert leads["default"].isna().sum() == 8597  # "unknown"
    metadata = _metadata(out)
    assert metadata.time_basis == TimeBasis.ROW_ORDER
    assert metadata.activity_columns == ["campaign", "pdays", "previous"]
    assert set(metadata.activity_columns) <= set(metadata.numeric_columns)
    assert "emp_var_rate" in metadata.numeric_columns


def test_online_shoppers_keeps_every_session(shared_datasets: Path, tmp_path: Path) -> None:
    out = tmp_path / "shoppers"
    summary = import_export(MAPPINGS / "online_shoppers.toml", out, data_root=shared_datasets)
    assert summary.leads == 12330
    assert summary.outcome_counts["won"] == 1908
    assert summary.outcome_rate == pytest.approx(0.1547, abs=5e-4)
    assert summary.rejects == 0
    leads = _leads(out)
    assert leads["Administrative"].isna().sum() == 14  # the NA rows, kept with missing values
    assert leads["ProductRelated_Duration"].isna().sum() == 14 + 33  # plus the -1 durations
    assert (leads["ProductRelated_Duration"].dropna() >= 0).all()
    assert "June" not in set(leads["Month"].dropna())
    assert isinstance(leads["Browser"].dtype, pd.CategoricalDtype)


# --- a synthetic export with an events log ----------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def _synthetic_export(root: Path, contacts_extra_row: str = "", activities_extra_row: str = "") -> Path:
    _write(
        root / "export" / "contacts.csv",
        """
Contact ID|Created|Lead Source|Employees|Stage|Closed On|Notes
c1|03/01/2024|Webinar|120|Closed Won|20/02/2024|x
c2|05/01/2024|Ads|n/a|Closed Lost|01/03/2024|y
c3|10/01/2024|n/a|15|Nurturing||z
"""
        + contacts_extra_row,
    )
    _write(
        root / "export" / "activities.csv",
        """
who,when,what,channel
c1,2024-01-04 10:00,Email Click,mail
c1,2024-01-20 09:30,Pricing View,web
c2,2024-01-06 12:00,Email Click,mail
"""
        + activities_extra_row,
    )
    return _write(
        root / "config" / "crm.toml",
        """
name = "crm"
root = "../export"
observed_until = 2024-04-01

[leads]
file = "contacts.csv"
delimiter = "|"
lead_id = "Contact ID"
created_at = "Created"
date_format = "%d/%m/%Y"
categorical = ["Lead Source"]
numeric = ["Employees"]
drop = ["Notes"]
rename = { "Lead Source" = "source", Employees = "employees" }
missing = ["n/a"]

[outcome]
status_column = "Stage"
status_values = { "Closed Won" = "won", "Closed Lost" = "lost", Nurturing = "open" }
closed_at = "Closed On"
date_format = "%d/%m/%Y"

[events]
file = "activities.csv"
lead_id = "who"
occurred_at = "when"
event_type_column = "what"
event_type_values = { "Email Click" = "email_click", "Pricing View" = "pricing_page_view" }
extra = ["channel"]
""",
    )


def test_synthetic_export_with_events_status_column_and_renames(tmp_path: Path) -> None:
    config = _synthetic_export(tmp_path)
    out = tmp_path / "dataset"
    summary = import_export(config, out, mode="strict")
    assert isinstance(summary, ImportSummary)
    assert summary.leads == 3 and summary.events == 3
    assert summary.outcome_counts == {"won": 1, "lost": 1, "open": 1}
    assert summary.outcome_rate == pytest.approx(1 / 3)
    leads = _leads(out).set_index("lead_id")
    assert list(leads.columns) == ["created_at", "source", "employees"]
    assert leads.loc["c1", "created_at"] == pd.Timestamp("2024-01-03", tz="UTC")
    assert pd.isna(leads.loc["c3", "source"]) and pd.isna(leads.loc["c2", "employees"])
    assert leads.loc["c3", "employees"] == 15.0
    events = pd.read_parquet(out / "events.parquet")
    assert sorted(events["event_type"].astype(str)) == ["email_click", "email_click", "pricing_page_view"]
    assert set(events["channel"]) == {"mail", "web"}
    outcomes = pd.read_parquet(out / "outcomes.parquet").set_index("lead_id")
    assert outcomes.loc["c1", "closed_at"] == pd.Timestamp("2024-02-20", tz="UTC")
    assert _metadata(out).observed_until == pd.Timestamp("2024-04-01", tz="UTC")
    # What the import wrote is a dataset the rest of the pipeline reads back as valid.
    reloaded, report = load_dataset(out)
    assert len(reloaded.leads) == 3 and report.rejects.empty
    labels = dict(summary.to_table())
    assert labels["leads"] == "3" and labels["win rate"] == "33.3%"


def test_event_rows_repeated_exactly_are_kept_and_counted_in_a_warning(tmp_path: Path) -> None:
    # The first row again, and a row that differs only in its channel (a different event).
    config = _synthetic_export(
        tmp_path,
        activities_extra_row="c1,2024-01-04 10:00,Email Click,mail\nc1,2024-01-04 10:00,Email Click,web\n",
    )
    summary = import_export(config, tmp_path / "dataset", mode="strict")
    assert summary.events == 5
    [warning] = [w for w in summary.warnings if "repeat an earlier row" in w]
    assert warning.startswith("1 of 5 rows of activities.csv repeat an earlier row exactly")
    assert not any(
        "repeat an earlier row" in w
        for w in import_export(
            _synthetic_export(tmp_path / "clean"), tmp_path / "clean_dataset", mode="strict"
        ).warnings
    )
    # Dates without times: two calls on one day are alike, which the warning says.
    dated = _synthetic_export(tmp_path / "dated", activities_extra_row="c1,2024-01-04,Email Click,mail\n" * 2)
    activities = tmp_path / "dated" / "export" / "activities.csv"
    activities.write_text(re.sub(r" \d\d:\d\d", "", activities.read_text()))
    [warning] = [
        w for w in import_export(dated, tmp_path / "d2", mode="strict").warnings if "repeat an earlier" in w
    ]
    assert "(same lead, day, type and fields)" in warning and "dates without times" in warning


def test_events_of_leads_not_in_the_leads_file_are_rejected_or_skipped_as_the_mapping_says(
    tmp_path: Path,
) -> None:
    # An activity export that covers every contact: two rows belong to a contact the leads export lacks,
    # and a later row of a known lead has a bad date.
    extra = (
        "x9,2024-01-05 10:00,Email Click,mail\nx9,2024-01-06 10:00,Email Click,mail\nc2,soon,Email Click,mail"
    )
    config = _synthetic_export(tmp_path, activities_extra_row=extra)
    with pytest.raises(
        TooManyRejectsError, match=r"\[events\] unknown_leads = \"skip\" leaves them out\) \(2 rows"
    ):
        import_export(config, tmp_path / "d", mode="lenient")
    config.write_text(
        config.read_text().replace('extra = ["channel"]', 'extra = ["channel"]\nunknown_leads = "skip"')
    )
    with pytest.raises(DataValidationError) as caught:
        import_export(config, tmp_path / "d", mode="strict")
    [problem] = caught.value.problems  # only the bad date, still named by its row of the file
    assert (problem.file, problem.row, problem.column) == ("activities.csv", 6, "when")
    summary = import_export(config, tmp_path / "d", mode="lenient", max_reject_share=0.5)
    assert summary.events == 3 and summary.rejects == 1
    # The cap weighs the rejected row against the 4 rows validated, not the 6 read: 25% > 20%.
    with pytest.raises(TooManyRejectsError, match=r"activities\.csv: 1 of 4 rows \(25\.0%\)"):
        import_export(config, tmp_path / "e", mode="lenient", max_reject_share=0.2)
    assert any(
        "2 of 6 rows of activities.csv are events of 1 lead not in contacts.csv: left out" in w
        for w in summary.warnings
    )
    # A row naming no lead at all (a task on nobody) is left out the same way, not quarantined.
    blank = _synthetic_export(tmp_path / "blank", activities_extra_row=",2024-01-05 10:00,Email Click,mail")
    blank.write_text(
        blank.read_text().replace('extra = ["channel"]', 'extra = ["channel"]\nunknown_leads = "skip"')
    )
    summary = import_export(blank, tmp_path / "f", mode="strict")
    assert summary.rejects == 0
    assert any("1 of 4 rows of activities.csv name no lead: left out" in w for w in summary.warnings)


def test_dirty_row_is_quarantined_with_original_file_row_and_column(tmp_path: Path) -> None:
    config = _synthetic_export(
        tmp_path, "c4|31/02/2024|Ads|lots|Closed Lost|01/03/2024|w", "c9,2024-01-07 08:00,Email Click,mail"
    )
    out = tmp_path / "dataset"
    # 1 of 4 rows per file is bad: far above the default 2% cap, so the cap is raised for this test.
    summary = import_export(config, out, mode="lenient", max_reject_share=0.3)
    assert summary.leads == 3 and summary.events == 3
    rejects = pd.read_csv(out / REJECTS_FILE, dtype=str)
    assert summary.rejects == len(rejects) == 2
    lead_reject = rejects[rejects["file"] == "contacts.csv"].iloc[0]
    assert lead_reject["row"] == "4"
    # Named by the export's column names, not by the contract's or the renamed ones.
    assert lead_reject["column"] == "Created, Employees"
    assert "cannot parse '31/02/2024' as a %d/%m/%Y date" in lead_reject["reason"]
    assert '"Employees": "lots"' in lead_reject["record"]
    event_reject = rejects[rejects["file"] == "activities.csv"].iloc[0]
    assert (event_reject["row"], event_reject["column"]) == ("4", "who")
    assert "unknown lead 'c9'" in event_reject["reason"]


def test_strict_import_refuses_a_dirty_row_and_writes_nothing(tmp_path: Path) -> None:
    config = _synthetic_export(tmp_path, "c4|04/02/2024|Ads|lots|Closed Lost|01/03/2024|w")
    out = tmp_path / "dataset"
    with pytest.raises(DataValidationError) as caught:
        import_export(config, out, mode="strict")
    problems = [(p.file, p.row, p.column) for p in caught.value.problems]
    assert ("contacts.csv", 4, "Employees") in problems
    assert "Employees" in str(caught.value)
    assert not out.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config", "export"]


def test_reimport_replaces_the_previous_dataset(tmp_path: Path) -> None:
    config = _synthetic_export(tmp_path)
    out = tmp_path / "dataset"
    out.mkdir()
    (out / "stale.txt").write_text("from an earlier import")
    (out / METADATA_FILE).write_text("{}")
    import_export(config, out)
    assert not (out / "stale.txt").exists()
    assert (out / "leads.parquet").exists()
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


def test_refuses_to_overwrite_a_directory_that_is_not_a_dataset(tmp_path: Path) -> None:
    config = _synthetic_export(tmp_path)
    with pytest.raises(ValueError, match="not an imported dataset"):
        import_export(config, tmp_path / "export")


# --- bad configs ----------------------------------------------------------------------------------


def _config_with(tmp_path: Path, old: str, new: str) -> Path:
    config = _synthetic_export(tmp_path)
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new))
    return config


def test_unknown_key_is_refused_naming_it(tmp_path: Path) -> None:
    config = _config_with(tmp_path, 'created_at = "Created"', 'created_at = "Created"\ncreatd_at = "x"')
    with pytest.raises(MappingConfigError, match=r"crm\.toml.*'leads\.creatd_at'.*not a known setting"):
        load_mapping(config)


def test_missing_lead_id_setting_is_refused_naming_it(tmp_path: Path) -> None:
    config = _config_with(tmp_path, 'lead_id = "Contact ID"\n', "")
    with pytest.raises(MappingConfigError, match=r"crm\.toml.*'leads\.lead_id'.*required"):
        load_mapping(config)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('drop = ["Notes"]', 'drop = ["Note"]', r"'leads\.drop': column 'Note' is not in contacts\.csv"),
        ('drop = ["Notes"]', "", r"'leads'.*\['Notes'\].*not mentioned"),
        (
            'status_column = "Stage"',
            'status = "won"\nstatus_column = "Stage"',
            r"'outcome\.status'.*exactly one",
        ),
        ('Nurturing = "open"', 'Nurturing = "pending"', r"'outcome\.status_values\.Nurturing'.*pending"),
        ('root = "../export"', 'root = "../nowhere"', r"'leads\.file'.*does not exist"),
        ('rename = { "Lead Source" = "source"', 'rename = { "Lead Source" = "status"', r"reserves"),
        ("observed_until = 2024-04-01", 'observed_until = "soon"', r"'observed_until'"),
    ],
)
def test_inconsistent_config_is_refused_naming_the_key(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    config = _config_with(tmp_path, old, new)
    with pytest.raises(MappingConfigError, match=message):
        import_export(config, tmp_path / "dataset")
    assert not (tmp_path / "dataset").exists()


def test_shared_mapping_configs_find_the_shared_datasets_by_their_root(shared_datasets: Path) -> None:
    for path in sorted(MAPPINGS.glob("*.toml")):
        config = load_mapping(path)
        assert config.root == shared_datasets.resolve(), path.name
        assert (config.root / config.leads.source.file).is_file()


def test_unmentioned_columns_can_be_dropped_with_a_warning(tmp_path: Path) -> None:
    config = _config_with(tmp_path, 'drop = ["Notes"]', 'other_columns = "drop"')
    summary = import_export(config, tmp_path / "dataset")
    assert "Notes" not in _leads(tmp_path / "dataset").columns
    assert any("['Notes']" in warning for warning in summary.warnings)


def test_annotated_example_in_the_readme_is_a_valid_config(tmp_path: Path) -> None:
    readme = (MAPPINGS / "README.md").read_text()
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    config_path = tmp_path / "example.toml"
    config_path.write_text(example)
    config = load_mapping(config_path)
    assert config.leads.lead_id == "Contact ID"
    assert config.outcome.status_values["Closed Won"] == "won"
    assert config.events is not None and config.events.extra == ("channel",)
    assert config.leads.known_at == {"Lead Quality": "after_contact"}
    assert config.leads.exclude_columns == ("Employees",)


def test_parquet_export_with_typed_columns_and_generated_ids(tmp_path: Path) -> None:
    pd.DataFrame(
        {"visits": [3, -1, 7], "country": ["DE", "unknown", "FR"], "bought": [True, False, False]}
    ).to_parquet(tmp_path / "sessions.parquet")
    config = _write(
        tmp_path / "sessions.toml",
        """
name = "sessions"
[leads]
file = "sessions.parquet"
lead_id = { generate = "row_number", prefix = "s" }
row_order = "oldest_first"
categorical = ["country"]
activity = ["visits"]
missing = ["unknown"]
[leads.values]
visits = { "-1" = "" }
[outcome]
status_column = "bought"
status_values = { "True" = "won", "False" = "lost" }
""",
    )
    summary = import_export(config, tmp_path / "dataset", mode="strict")
    assert summary.time_basis == "row_order" and summary.observed_until is None
    assert summary.outcome_counts == {"won": 1, "lost": 2, "open": 0}
    leads = _leads(tmp_path / "dataset")
    assert leads["lead_id"].tolist() == ["s1", "s2", "s3"]
    assert leads["visits"].tolist()[::2] == [3.0, 7.0] and pd.isna(leads["visits"].iloc[1])
    assert pd.isna(leads["country"].iloc[1])


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode must be 'strict' or 'lenient', not 'loose'"):
        import_export(_synthetic_export(tmp_path), tmp_path / "dataset", mode="loose")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('delimiter = "|"', 'delimiter = "||"', r"'leads\.delimiter'.*at most 1 character"),
        ('lead_id = "Contact ID"', 'lead_id = { generate = "row_numbr" }', r"'leads\.lead_id\.generate'"),
        (
            'lead_id = "Contact ID"',
            'lead_id = { generate = "row_number", x = 1 }',
            r"'leads\.lead_id\.x'.*prefix",
        ),
        ('lead_id = "Contact ID"', "lead_id = 5", r"'leads\.lead_id': must be a string, not 5"),
        (
            'missing = ["n/a"]',
            'missing = ["n/a"]\nvalues = { Employees = { "n/a" = 0 } }',
            r"'leads\.values\.Employees\.n/a'",
        ),
        (
            'closed_at = "Closed On"',
            'closed_at = "Closed On"\nabsent = "lost"',
            r"'outcome\.absent'.*only applies with 'file'",
        ),
        ('extra = ["channel"]', 'extra = ["channel", "channel"]', r"'events\.extra'.*more than once"),
        (
            'extra = ["channel"]',
            'extra = ["channel"]\nrename = { channel = "lead_id" }',
            r"'events\.rename\.channel'.*reserves",
        ),
        ('occurred_at = "when"', 'occurred_at = "when"\nwhen = 1', r"'events\.when'.*not a known setting"),
    ],
)
def test_nested_config_problems_name_the_dotted_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(MappingConfigError, match=message) as caught:
        load_mapping(_config_with(tmp_path, old, new))
    assert str(caught.value).startswith(str(tmp_path / "config" / "crm.toml"))


# --- reject cap and encoding ---------------------------------------------------------------------


def test_lenient_import_fails_above_the_reject_cap_naming_the_commonest_problem(tmp_path: Path) -> None:
    # One forgotten stage value ("Qualified") would quarantine 2 of 5 leads: 40% > the default 2%.
    config = _synthetic_export(tmp_path, "c4|04/02/2024|Ads|5|Qualified||w\nc5|05/02/2024|Ads|5|Qualified||w")
    out = tmp_path / "dataset"
    with pytest.raises(TooManyRejectsError) as caught:
        import_export(config, out, mode="lenient")
    message = str(caught.value)
    assert "contacts.csv: 2 of 5 rows (40.0%) would be quarantined" in message
    assert (
        "contacts.csv, column Stage: unknown status … (expected one of won, lost, open; a mapping's"
        in message
    )
    assert "(2 rows: 'Qualified')" in message
    assert "--max-reject-share" in message
    assert not out.exists()  # nothing written
    # Allowed explicitly (argument or config key), the same import quarantines the two rows.
    summary = import_export(config, out, mode="lenient", max_reject_share=0.5)
    assert summary.rejects == 2 and summary.leads == 3
    text = config.read_text()
    config.write_text("max_reject_share = 0.5\n" + text)
    assert import_export(config, tmp_path / "again", mode="lenient").rejects == 2


def test_reject_cap_key_is_checked(tmp_path: Path) -> None:
    config = _synthetic_export(tmp_path)
    config.write_text("max_reject_share = 2\n" + config.read_text())
    with pytest.raises(MappingConfigError, match="max_reject_share"):
        load_mapping(config)


def test_cli_import_exits_non_zero_with_the_reject_summary(tmp_path: Path) -> None:
    config = _synthetic_export(tmp_path, "c4|04/02/2024|Ads|5|Qualified||w")
    result = CliRunner().invoke(app, ["import", "--mapping", str(config), "--out", str(tmp_path / "d")])
    assert result.exit_code == 2
    assert "would be quarantined" in result.output
    ok = CliRunner().invoke(
        app,
        ["import", "--mapping", str(config), "--out", str(tmp_path / "d"), "--max-reject-share", "0.5"],
    )
    assert ok.exit_code == 0, ok.output


def test_encoding_option_overrides_the_config(tmp_path: Path) -> None:
    config = _synthetic_export(tmp_path)
    contacts = tmp_path / "export" / "contacts.csv"
    contacts.write_bytes(contacts.read_text().replace("Webinar", "Séminaire").encode("cp1252"))
    with pytest.raises(ValueError, match=r"contacts\.csv"):
        import_export(config, tmp_path / "d", mode="strict")
    summary = import_export(config, tmp_path / "d", mode="strict", encoding="cp1252")
    assert summary.leads == 3
    assert "Séminaire" in set(_leads(tmp_path / "d")["source"].dropna())


# --- row order of exports without dates ----------------------------------------------------------

ROW_ORDER_EXPORT = """
Lead Number,Source,Visits,Converted
101,web,3,yes
102,ads,1,no
103,web,7,no
104,ads,2,yes
"""


def _row_order_config(tmp_path: Path, declaration: str, table: str = ROW_ORDER_EXPORT) -> Path:
    _write(tmp_path / "leads.csv", table)
    return _write(
        tmp_path / "leads.toml",
        f"""
name = "undated"
[leads]
file = "leads.csv"
lead_id = "Lead Number"
{declaration}
categorical = ["Source"]
activity = ["Visits"]
[outcome]
status_column = "Converted"
status_values = {{ yes = "won", no = "lost" }}
""",
    )


def test_export_without_dates_must_declare_its_row_order(tmp_path: Path) -> None:
    with pytest.raises(MappingConfigError, match=r"leads\.row_order.*oldest_first.*newest_first"):
        import_export(_row_order_config(tmp_path, ""), tmp_path / "d")
    with pytest.raises(MappingConfigError, match="'oldest_first' or 'newest_first', not 'latest_last'"):
        import_export(_row_order_config(tmp_path, 'row_order = "latest_last"'), tmp_path / "d")


def test_newest_first_export_is_read_oldest_first(tmp_path: Path) -> None:
    oldest = import_export(_row_order_config(tmp_path, 'row_order = "oldest_first"'), tmp_path / "a")
    newest = import_export(_row_order_config(tmp_path, 'row_order = "newest_first"'), tmp_path / "b")
    assert oldest.time_basis == newest.time_basis == "row_order"
    forward, _ = load_dataset(tmp_path / "a")
    backward, _ = load_dataset(tmp_path / "b")
    # The dataset's time axis: oldest lead first. Declared newest first, the file's last row is oldest.
    assert forward.leads["lead_id"].astype(str).tolist() == ["101", "102", "103", "104"]
    assert backward.leads["lead_id"].astype(str).tolist() == ["104", "103", "102", "101"]


def test_sequence_column_that_contradicts_the_declared_order_is_refused(tmp_path: Path) -> None:
    # Lead numbers rise down the file: the file is oldest first.
    config = _row_order_config(
        tmp_path, 'row_order = "newest_first"\nsequence_column = "Lead Number"\nlead_id = "Lead Number"'
    )
    config.write_text(config.read_text().replace('lead_id = "Lead Number"\n', "", 1))
    with pytest.raises(MappingConfigError) as caught:
        import_export(config, tmp_path / "d")
    message = str(caught.value)
    assert "'Lead Number'" in message and "at row 2 it goes from 101 to 102" in message
    assert "3 steps up, 0 steps down" in message
    # Declared the way the numbers run, it imports.
    config.write_text(config.read_text().replace("newest_first", "oldest_first"))
    assert import_export(config, tmp_path / "d").leads == 4


# --- day/month order of non-ISO dates ------------------------------------------------------------


def _dated_config(tmp_path: Path, created: list[str], date_format: str | None = None) -> Path:
    rows = "\n".join(f'c{i},"{day}",web,{"yes" if i % 2 else "no"}' for i, day in enumerate(created))
    _write(tmp_path / "leads.csv", "id,Created,Source,Won\n" + rows)
    fmt = f'date_format = "{date_format}"' if date_format else ""
    return _write(
        tmp_path / "leads.toml",
        f"""
name = "dated"
observed_until = 2025-01-01
[leads]
file = "leads.csv"
lead_id = "id"
created_at = "Created"
{fmt}
categorical = ["Source"]
[outcome]
status_column = "Won"
status_values = {{ yes = "won", no = "lost" }}
""",
    )


def test_dates_that_fit_both_orders_are_refused_until_the_mapping_says_which(tmp_path: Path) -> None:
    config = _dated_config(tmp_path, ["03/04/2024", "05/06/2024", "11/12/2024"])
    with pytest.raises(MappingConfigError) as caught:
        import_export(config, tmp_path / "d")
    message = str(caught.value)
    assert "leads.date_format" in message and "'Created'" in message
    assert 'date_format = "day_first" (%d/%m/%Y) or "month_first" (%m/%d/%Y)' in message
    day_first = _dated_config(tmp_path, ["03/04/2024", "05/06/2024", "11/12/2024"], "%d/%m/%Y")
    import_export(day_first, tmp_path / "d")
    assert _leads(tmp_path / "d")["created_at"].iloc[0] == pd.Timestamp("2024-04-03", tz="UTC")


def test_dates_whose_values_show_the_order_are_read_that_way_with_a_warning(tmp_path: Path) -> None:
    config = _dated_config(tmp_path, ["03/04/2024", "25/06/2024", "11/12/2024"])
    summary = import_export(config, tmp_path / "d")
    assert _leads(tmp_path / "d")["created_at"].iloc[0] == pd.Timestamp("2024-04-03", tz="UTC")
    assert any('read as "day_first"' in warning for warning in summary.warnings)
    mixed = _dated_config(tmp_path, ["03/25/2024", "25/06/2024"])
    with pytest.raises(MappingConfigError, match="mix day-first and month-first"):
        import_export(mixed, tmp_path / "e")


def test_an_order_shown_by_the_values_reads_every_time_style_and_guesses_nothing(tmp_path: Path) -> None:
    """A UK export: day first, 12-hour times, midnight without a time, one row with seconds. The
    12-hour times did not fit the "%d/%m/%Y %H:%M" read from the first value and were left to a
    parser that reads month first: 05/01/2024 1:45 PM became the 1st of May."""
    values = ["05/01/2024 1:45 PM", "25/01/2024 9:05 am", "06/02/2024", "07/02/2024 10:11:12"]
    summary = import_export(_dated_config(tmp_path, values), tmp_path / "d")
    assert _leads(tmp_path / "d")["created_at"].tolist() == [
        pd.Timestamp("2024-01-05 13:45", tz="UTC"),
        pd.Timestamp("2024-01-25 09:05", tz="UTC"),
        pd.Timestamp("2024-02-06", tz="UTC"),
        pd.Timestamp("2024-02-07 10:11:12", tz="UTC"),
    ]
    assert any('set date_format = "day_first"' in warning for warning in summary.warnings)
    # A value with a time the order cannot read is reported, not read some other way.
    odd = _dated_config(tmp_path, ["05/01/2024 13h45", "25/01/2024"])
    with pytest.raises(DataValidationError, match=r"cannot parse '05/01/2024 13h45' as a day_first date"):
        import_export(odd, tmp_path / "e", mode="strict")


@pytest.mark.parametrize(
    ("values", "expected", "order"),
    [
        # Salesforce writes a comma between date and time; a UK org's were read month first before.
        (
            ["5/1/2024, 1:45 PM", "25/1/2024, 9:05 AM", "6/2/2024"],
            ["2024-01-05 13:45", "2024-01-25 09:05", "2024-02-06"],
            "day_first",
        ),
        (
            ["1/5/2024, 1:45 PM", "1/25/2024, 9:05 AM", "2/6/2024,10:00 AM"],
            ["2024-01-05 13:45", "2024-01-25 09:05", "2024-02-06 10:00"],
            "month_first",
        ),
        (
            ["05.01.2024T13:45:10.250", "25.01.2024 1:45pm", "06.02.2024"],
            ["2024-01-05 13:45:10.250", "2024-01-25 13:45", "2024-02-06"],
            "day_first",
        ),
    ],
)
def test_times_after_a_comma_a_t_or_with_fractions_are_read_in_the_order_shown(
    tmp_path: Path, values: list[str], expected: list[str], order: str
) -> None:
    summary = import_export(_dated_config(tmp_path, values), tmp_path / "d")
    assert _leads(tmp_path / "d")["created_at"].tolist() == [pd.Timestamp(v, tz="UTC") for v in expected]
    assert any(f'set date_format = "{order}"' in warning for warning in summary.warnings)


def test_a_value_that_is_no_date_does_not_hide_the_order_the_others_show(tmp_path: Path) -> None:
    """One "N/A" or ISO date among day-first dates once sent the whole column to a parser that reads
    01/05/2023 as the 5th of January; now the order is read from the d/m/y dates, the ISO one as ISO,
    and the N/A is reported with a hint."""
    values = ["01/05/2023", "25/04/2023", "N/A", "2023-05-03"]  # an ISO date says itself which is which
    summary = import_export(_dated_config(tmp_path, values), tmp_path / "d", max_reject_share=0.5)
    created = _leads(tmp_path / "d").set_index("lead_id")["created_at"]
    assert created["c0"] == pd.Timestamp("2023-05-01", tz="UTC")
    assert created["c3"] == pd.Timestamp("2023-05-03", tz="UTC")
    assert summary.rejects == 1
    rejects = pd.read_csv(tmp_path / "d" / REJECTS_FILE)
    assert (
        "cannot parse 'N/A' as a day_first date (a missing value? a mapping's missing key"
        in rejects["reason"][0]
    )


def test_fallback_date_column_fills_missing_primary_dates(tmp_path: Path) -> None:
    _write(
        tmp_path / "leads.csv",
        "id,Created,Added,Won\nc1,2024-01-05,2023-12-01,yes\nc2,,2024-02-01,no\nc3,2024-03-01,,no\n",
    )
    config = _write(
        tmp_path / "leads.toml",
        """
name = "fallback"
observed_until = 2025-01-01
[leads]
file = "leads.csv"
lead_id = "id"
created_at = "Created"
created_at_fallback = "Added"
[outcome]
status_column = "Won"
status_values = { yes = "won", no = "lost" }
""",
    )
    summary = import_export(config, tmp_path / "d", mode="strict")
    created = _leads(tmp_path / "d").set_index("lead_id")["created_at"]
    assert created["c1"] == pd.Timestamp("2024-01-05", tz="UTC")  # the primary wins where present
    assert created["c2"] == pd.Timestamp("2024-02-01", tz="UTC")
    assert any("1 leads of leads.csv have no 'Created': 'Added' used instead" in w for w in summary.warnings)


def test_known_at_and_exclude_columns_reach_the_dataset_metadata(tmp_path: Path) -> None:
    config = _config_with(
        tmp_path,
        'numeric = ["Employees"]',
        'numeric = ["Employees"]\nknown_at = { "Lead Source" = "after_contact" }\n'
        'exclude_columns = ["Employees"]',
    )
    import_export(config, tmp_path / "dataset")
    metadata = json.loads((tmp_path / "dataset" / "dataset.json").read_text())
    # Named by their output (renamed) names; still imported, for the audit.
    assert metadata["known_at"] == {"source": "after_contact"}
    assert metadata["excluded_columns"] == ["employees"]
    assert {"source", "employees"} <= set(_leads(tmp_path / "dataset").columns)


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (
            'known_at = { "Lead Source" = "later" }',
            r"'leads\.known_at\.Lead Source': input should be 'creation', 'after_contact' or 'unknown'",
        ),
        ('known_at = { "Notes" = "after_contact" }', r"'leads\.known_at'.*'Notes'.*not a categorical"),
        ('exclude_columns = ["Nope"]', r"'leads\.exclude_columns'.*'Nope'"),
    ],
)
def test_bad_known_at_or_exclusions_are_refused(tmp_path: Path, new: str, message: str) -> None:
    config = _config_with(tmp_path, 'numeric = ["Employees"]', f'numeric = ["Employees"]\n{new}')
    with pytest.raises(MappingConfigError, match=message):
        load_mapping(config)
