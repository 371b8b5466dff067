"""The optional target dates of the outcomes (``opportunity_at``, ``accepted_at``): read and checked when
present, absent when the input lacks them, never a profile attribute."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.training.data.test_validation import FILES, NOW, base_tables
from training.data.contract import ACCEPTED_AT, OPPORTUNITY_AT, DatasetMetadata
from training.data.validation import DataValidationError, validate_tables


def test_target_dates_are_parsed_when_present_and_absent_otherwise() -> None:
    tables = base_tables()
    plain, _ = validate_tables(
        tables["leads"], None, tables["outcomes"], DatasetMetadata(name="t"), files=FILES, now=NOW
    )
    assert OPPORTUNITY_AT not in plain.outcomes.columns
    tables["outcomes"][OPPORTUNITY_AT] = ["2020-03-20", None, None, None]
    dataset, _ = validate_tables(
        tables["leads"], None, tables["outcomes"], DatasetMetadata(name="t"), files=FILES, now=NOW
    )
    dates = dataset.outcomes.set_index("lead_id")[OPPORTUNITY_AT]
    assert dates["L1"] == pd.Timestamp("2020-03-20", tz="UTC")
    assert dates.isna().sum() == 3
    assert ACCEPTED_AT not in dataset.outcomes.columns


def test_a_target_date_before_creation_or_unparseable_is_named() -> None:
    tables = base_tables()
    tables["outcomes"][ACCEPTED_AT] = ["2019-12-01", "soon", None, None]
    with pytest.raises(DataValidationError) as caught:
        validate_tables(
            tables["leads"], None, tables["outcomes"], DatasetMetadata(name="t"), files=FILES, now=NOW
        )
    message = str(caught.value)
    assert "outcomes.csv, row 1, column accepted_at: accepted_at 2019-12-01" in message
    assert "is before the lead was created" in message
    assert "outcomes.csv, row 2, column accepted_at: cannot parse 'soon' as a timestamp" in message


def test_target_dates_in_the_leads_table_are_outcomes_not_profile() -> None:
    tables = base_tables()
    leads = tables["leads"].assign(
        status=["won", "lost", "open", "won"], opportunity_at=["2020-03-05", None, None, "2020-04-03"]
    )
    dataset, _ = validate_tables(leads, None, None, DatasetMetadata(name="t"), files=FILES, now=NOW)
    assert OPPORTUNITY_AT in dataset.outcomes.columns
    assert OPPORTUNITY_AT not in dataset.leads.columns
    assert OPPORTUNITY_AT not in dataset.metadata.profile_columns
    # Beside a separate outcomes file, a target date in the leads table is refused as ambiguous.
    with pytest.raises(DataValidationError, match="outcome column 'opportunity_at' is in the leads table"):
        validate_tables(
            leads.drop(columns="status"),
            None,
            tables["outcomes"],
            DatasetMetadata(name="t"),
            files=FILES,
            now=NOW,
        )
