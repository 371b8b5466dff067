"""Mapping a CRM export's funnel onto the outcomes: stages to won/lost/open, and the opportunity and
acceptance dates from named export columns, ready for the training targets other than ``won``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.training.data.test_mapping import _write
from training.data.contract import ACCEPTED_AT, OPPORTUNITY_AT
from training.data.io import load_dataset
from training.data.mapping import MappingConfigError, import_export
from training.features.targets import check_target_available

MAPPING = """
name = "funnel"
root = "."
observed_until = 2024-06-01

[leads]
file = "deals.csv"
lead_id = "Id"
created_at = "Created"
date_format = "%d.%m.%Y"
categorical = ["Source"]
drop = ["Owner"]

[outcome]
status_column = "Stage"
status_values = { "Closed Won" = "won", "Closed Lost" = "lost", Negotiation = "open", "SAL" = "open" }
closed_at = "Closed"
accepted_at = "SAL Date"
opportunity_at = "Opportunity Created"
date_format = "%d.%m.%Y"
"""

EXPORT = """
Id,Created,Source,Owner,Stage,Closed,SAL Date,Opportunity Created
a,02.01.2024,Web,kim,Closed Won,20.03.2024,05.01.2024,01.02.2024
b,03.01.2024,Ads,kim,Closed Lost,01.04.2024,10.01.2024,
c,04.01.2024,Web,lee,Negotiation,,15.01.2024,20.02.2024
d,05.01.2024,Ads,lee,SAL,,25.01.2024,
e,06.01.2024,Web,kim,Closed Lost,13.01.2024,,
"""


def test_stages_and_milestone_dates_map_onto_the_outcomes(tmp_path: Path) -> None:
    _write(tmp_path / "deals.csv", EXPORT)
    config = _write(tmp_path / "funnel.toml", MAPPING)
    out = tmp_path / "dataset"
    summary = import_export(config, out)
    assert summary.outcome_counts == {"won": 1, "lost": 2, "open": 2}
    outcomes = pd.read_parquet(out / "outcomes.parquet").set_index("lead_id")
    assert outcomes.loc["a", OPPORTUNITY_AT] == pd.Timestamp("2024-02-01", tz="UTC")
    assert outcomes.loc["d", ACCEPTED_AT] == pd.Timestamp("2024-01-25", tz="UTC")
    assert outcomes[ACCEPTED_AT].notna().sum() == 4 and outcomes[OPPORTUNITY_AT].notna().sum() == 2
    # The dates are outcomes, never profile attributes the model could read.
    leads = pd.read_parquet(out / "leads.parquet")
    assert not {"SAL Date", "Opportunity Created", ACCEPTED_AT, OPPORTUNITY_AT} & set(leads.columns)
    dataset, _ = load_dataset(out)
    check_target_available(dataset, "opportunity", "outcomes.parquet")
    check_target_available(dataset, "accepted", "outcomes.parquet")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            [
                ('accepted_at = "SAL Date"', 'accepted_at = "SAL Datum"'),
                ('drop = ["Owner"]', 'drop = ["Owner", "SAL Date"]'),
            ],
            r"key 'outcome\.accepted_at'.*'SAL Datum'",
        ),
        ([('categorical = ["Source"]', 'categorical = ["Source", "SAL Date"]')], r"may not also be profile"),
        ([('accepted_at = "SAL Date"', 'accepted_on = "SAL Date"')], r"outcome\.accepted_on"),
    ],
)
def test_milestone_columns_are_checked(tmp_path: Path, changes: list[tuple[str, str]], message: str) -> None:
    _write(tmp_path / "deals.csv", EXPORT)
    text = MAPPING
    for old, new in changes:
        text = text.replace(old, new)
    config = _write(tmp_path / "funnel.toml", text)
    with pytest.raises(MappingConfigError, match=message):
        import_export(config, tmp_path / "dataset")


def test_date_format_applies_to_milestone_dates_alone(tmp_path: Path) -> None:
    _write(tmp_path / "deals.csv", EXPORT)
    text = MAPPING.replace('closed_at = "Closed"\n', "").replace(
        'drop = ["Owner"]', 'drop = ["Owner", "Closed"]'
    )
    # Only lost/open leads without a close date would be quarantined: keep the open ones.
    text = text.replace(
        '"Closed Won" = "won", "Closed Lost" = "lost"', '"Closed Won" = "open", "Closed Lost" = "open"'
    )
    config = _write(tmp_path / "funnel.toml", text)
    import_export(config, tmp_path / "dataset")
    outcomes = pd.read_parquet(tmp_path / "dataset" / "outcomes.parquet")
    assert outcomes[ACCEPTED_AT].notna().sum() == 4


def test_import_warns_about_wins_later_than_the_default_horizon(tmp_path: Path) -> None:
    config = _write(tmp_path / "funnel.toml", MAPPING)
    _write(tmp_path / "deals.csv", EXPORT)
    assert not any("won leads closed more than" in w for w in import_export(config, tmp_path / "a").warnings)
    _write(tmp_path / "deals.csv", EXPORT.replace("Closed Won,20.03.2024", "Closed Won,20.05.2024"))
    summary = import_export(config, tmp_path / "b")
    assert (
        "1 of 1 won leads closed more than 90 days after they were created (median 139 days): with the "
        "default 90-day horizon" in " ".join(summary.warnings)
    )


def test_import_warns_about_closed_leads_without_a_close_date(tmp_path: Path) -> None:
    config = _write(tmp_path / "funnel.toml", MAPPING)
    _write(tmp_path / "deals.csv", EXPORT)
    assert not any("have no closed_at" in w for w in import_export(config, tmp_path / "a").warnings)
    # A CRM that dates only its wins: both lost leads lose their date.
    _write(
        tmp_path / "deals.csv",
        EXPORT.replace("Closed Lost,01.04.2024", "Closed Lost,").replace(
            "Closed Lost,13.01.2024", "Closed Lost,"
        ),
    )
    warnings = " ".join(import_export(config, tmp_path / "b").warnings)
    assert "2 lost leads (40% of the leads) have no closed_at: training leaves them out" in warnings


def test_one_column_may_date_two_milestones(tmp_path: Path) -> None:
    # Salesforce's "Converted Date" is both the hand-over and the opportunity's creation.
    text = MAPPING.replace('opportunity_at = "Opportunity Created"', 'opportunity_at = "SAL Date"')
    config = _write(
        tmp_path / "funnel.toml", text.replace('drop = ["Owner"]', 'drop = ["Owner", "Opportunity Created"]')
    )
    _write(tmp_path / "deals.csv", EXPORT)
    import_export(config, tmp_path / "dataset")
    outcomes = pd.read_parquet(tmp_path / "dataset" / "outcomes.parquet")
    assert outcomes[ACCEPTED_AT].equals(outcomes[OPPORTUNITY_AT]) and outcomes[ACCEPTED_AT].notna().sum() == 4


def test_a_close_date_fallback_dates_closed_leads_only(tmp_path: Path) -> None:
    # Dynamics has no disqualification date: "Modified On" stands in for lost leads, never for open ones.
    export = "Id,Created,Stage,Qualified On,Modified On\n" + "\n".join(
        [
            "a,2024-01-02,Qualified,2024-02-01,2024-02-01",
            "b,2024-01-03,Disqualified,,2024-03-01",
            "c,2024-01-04,Open,,2024-03-05",
        ]
    )
    _write(tmp_path / "leads.csv", export)
    config = _write(
        tmp_path / "crm.toml",
        'name = "crm"\nobserved_until = 2024-06-01\n[leads]\nfile = "leads.csv"\nlead_id = "Id"\n'
        'created_at = "Created"\n[outcome]\nstatus_column = "Stage"\n'
        'status_values = { Qualified = "won", Disqualified = "lost", Open = "open" }\n'
        'closed_at = "Qualified On"\nclosed_at_fallback = "Modified On"\n',
    )
    summary = import_export(config, tmp_path / "d", mode="strict")
    assert summary.rejects == 0
    outcomes = pd.read_parquet(tmp_path / "d" / "outcomes.parquet").set_index("lead_id")["closed_at"]
    assert outcomes["b"] == pd.Timestamp("2024-03-01", tz="UTC") and pd.isna(outcomes["c"])
    assert any(
        "1 leads of leads.csv have no 'Qualified On': 'Modified On' used instead" in w
        for w in summary.warnings
    )


def test_a_separate_outcome_file_takes_the_hand_over_date_from_the_leads_file(tmp_path: Path) -> None:
    # Salesforce: the leads report dates the conversion (the hand-over), the opportunities file does not.
    _write(
        tmp_path / "leads.csv",
        "Lead ID,Created Date,Converted Date\n"
        "A,2024-01-02,2024-01-20\nB,2024-01-03,2024-02-01\nC,2024-01-04,2023-12-01\n",
    )
    _write(
        tmp_path / "opps.csv", "Lead ID,Stage,Close Date\nA,Closed Won,2024-03-01\nB,Closed Lost,2024-03-05\n"
    )
    config = _write(
        tmp_path / "crm.toml",
        'name = "sf"\nobserved_until = 2024-06-01\n[leads]\nfile = "leads.csv"\nlead_id = "Lead ID"\n'
        'created_at = "Created Date"\n[leads.values]\n"Lead ID" = { x = "" }\n'
        '[outcome]\nfile = "opps.csv"\nlead_id = "Lead ID"\n'
        'status_column = "Stage"\nstatus_values = { "Closed Won" = "won", "Closed Lost" = "lost" }\n'
        'closed_at = "Close Date"\nhanded_over_at = "Converted Date"\n',
    )
    summary = import_export(config, tmp_path / "d", mode="strict")
    assert summary.outcome_counts == {"won": 1, "lost": 1, "open": 1}
    outcomes = pd.read_parquet(tmp_path / "d" / "outcomes.parquet").set_index("lead_id")["handed_over_at"]
    assert outcomes["A"] == pd.Timestamp("2024-01-20", tz="UTC")
    # C is in no outcome row of the file: its (impossible) date is not taken, so nothing unnameable fails.
    assert outcomes["B"] == pd.Timestamp("2024-02-01", tz="UTC") and pd.isna(outcomes["C"])
    # Never a feature of the leads table.
    assert "Converted Date" not in pd.read_parquet(tmp_path / "d" / "leads.parquet").columns
