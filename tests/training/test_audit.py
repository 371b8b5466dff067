"""Leakage audit: planted leaks are flagged, clean columns are not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.audit import LeakageKind, audit_leakage
from training.data.contract import DatasetMetadata, LeadDataset


def kinds_by_column(warnings: list) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for warning in warnings:
        found.setdefault(warning.column, set()).add(str(warning.kind))
    return found


@pytest.fixture()
def features_and_labels() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 2000
    y = rng.random(n) < 0.2
    features = pd.DataFrame(
        {
            # Clean: a genuine but imperfect signal, noise, a categorical with real effect, and NaNs.
            "webinar_count": rng.poisson(np.where(y, 2.0, 1.0)).astype(float),
            "noise": rng.normal(size=n),
            "lead_source": pd.Categorical(rng.choice(["web", "fair", "referral"], n)),
            "days_since_last_event": np.where(rng.random(n) < 0.3, np.nan, rng.exponential(20, n)),
            # Planted leaks.
            "contract_value": np.where(y, rng.uniform(1000, 5000, n), 0.0) + rng.normal(0, 1, n),
            "won_reason": pd.Series("price", index=range(n)).where(y),
        }
    )
    return features, y


def test_flags_planted_leaks_and_not_clean_columns(features_and_labels) -> None:
    features, y = features_and_labels
    found = kinds_by_column(audit_leakage(features, y))
    assert found.get("contract_value") == {"high_single_column_auc"}
    assert found.get("won_reason") == {"one_outcome_only"}
    for clean in ("webinar_count", "noise", "lead_source", "days_since_last_event"):
        assert clean not in found


def test_inverse_leak_is_flagged_too(features_and_labels) -> None:
    features, y = features_and_labels
    inverse = features[["noise"]].assign(
        lost_flag=(~y).astype(float) + np.random.default_rng(1).normal(0, 0.01, len(y))
    )
    warnings = audit_leakage(inverse, y)
    assert [w.column for w in warnings] == ["lost_flag"]
    assert warnings[0].value is not None and warnings[0].value < 0.05


def test_id_like_categorical_is_not_flagged_by_memorisation() -> None:
    rng = np.random.default_rng(2)
    n = 500
    y = rng.random(n) < 0.3
    features = pd.DataFrame({"landing_page": pd.Categorical([f"page{i}" for i in range(n)])})
    assert audit_leakage(features, y) == []


@pytest.fixture()
def dataset() -> LeadDataset:
    ts = pd.Timestamp("2024-01-01", tz="UTC")
    day = pd.Timedelta(days=1)
    n = 200
    lead_ids = [f"L{i}" for i in range(n)]
    won = np.arange(n) % 5 == 0
    status = np.where(won, "won", np.where(np.arange(n) % 2 == 0, "lost", "open"))
    closed_at = pd.Series(
        [ts + 30 * day if s != "open" else pd.NaT for s in status], dtype="datetime64[ns, UTC]"
    )
    leads = pd.DataFrame(
        {
            "lead_id": lead_ids,
            "created_at": ts,
            "origin": pd.Categorical(np.where(np.arange(n) % 3 == 0, "paid", "organic")),
            # Olist-style closed-deal column: exists only for won leads.
            "business_segment": pd.Series("retail", index=range(n)).where(won).astype("category"),
            # A timestamp recorded with the win.
            "won_date": pd.Series([ts + 30 * day if w else pd.NaT for w in won], dtype="datetime64[ns, UTC]"),
        }
    )
    outcomes = pd.DataFrame(
        {
            "lead_id": lead_ids,
            "status": status,
            # The first lead (won, closed on day 30) is recorded as handed over on day 40.
            "handed_over_at": pd.Series(
                [ts + 40 * day] + [ts + 10 * day] * (n - 1), dtype="datetime64[ns, UTC]"
            ),
            "closed_at": closed_at,
        }
    )
    events = pd.DataFrame(
        {
            "lead_id": lead_ids * 2,
            "occurred_at": [ts + 5 * day] * n + [ts + 35 * day] * 10 + [ts + 20 * day] * (n - 10),
            "event_type": pd.Categorical(
                ["email_click"] * n + ["onboarding_call"] * 10 + ["webinar"] * (n - 10)
            ),
        }
    )
    return LeadDataset(leads, events, outcomes, DatasetMetadata(name="planted"))


def test_flags_timestamps_after_the_outcome_and_one_outcome_columns(dataset: LeadDataset) -> None:
    warnings = audit_leakage(dataset=dataset)
    by_table = {(w.table, w.column): w for w in warnings}
    events_warning = by_table[("events", "occurred_at")]
    assert events_warning.kind == LeakageKind.AFTER_OUTCOME_TIMESTAMP
    assert "onboarding_call" in events_warning.detail
    assert by_table[("outcomes", "handed_over_at")].kind == LeakageKind.AFTER_OUTCOME_TIMESTAMP
    assert by_table[("leads", "won_date")].kind == LeakageKind.AFTER_OUTCOME_TIMESTAMP
    assert by_table[("leads", "business_segment")].kind == LeakageKind.ONE_OUTCOME_ONLY
    assert ("leads", "origin") not in by_table
    assert all(w.to_dict()["detail"] for w in warnings)


def test_clean_dataset_gives_no_warnings(dataset: LeadDataset) -> None:
    events = dataset.events[dataset.events["event_type"] != "onboarding_call"]
    outcomes = dataset.outcomes.assign(handed_over_at=dataset.outcomes["handed_over_at"].iloc[1])
    leads = dataset.leads.drop(columns=["business_segment", "won_date"])
    assert audit_leakage(leads=leads, events=events, outcomes=outcomes) == []


def test_features_without_labels_is_an_error(features_and_labels) -> None:
    features, _ = features_and_labels
    with pytest.raises(ValueError, match="labels"):
        audit_leakage(features)


def test_sparse_by_design_features_skip_only_the_populated_check() -> None:
    rng = np.random.default_rng(3)
    y = rng.random(2000) < 0.2
    # "days since the last demo request": exists for a fifth of won snapshots and almost no others.
    days_since_demo = np.where(y & (rng.random(2000) < 0.2), rng.uniform(0, 30, 2000), np.nan)
    features = pd.DataFrame({"demo_request_days_since_last": days_since_demo})
    flagged = audit_leakage(features, y)
    assert [w.kind for w in flagged] == [LeakageKind.ONE_OUTCOME_ONLY]
    assert audit_leakage(features, y, sparse_by_design=["demo_request_days_since_last"]) == []
