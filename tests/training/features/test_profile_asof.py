"""Profile values as of each snapshot's cutoff from a profile history: a field changed after the cutoff
does not leak into the snapshot, a lead without history keeps its current value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.training.features.test_snapshots import T0, day, make_dataset
from training.audit.timestamps import changed_after_outcome
from training.data.contract import CHANGED_AT, HISTORY_FIELD, LEAD_ID, NEW_VALUE, OLD_VALUE, LeadDataset
from training.features.profile_asof import values_as_of
from training.features.snapshots import CUTOFF, SnapshotPolicy, build_snapshots
from training.features.timestamps import timestamps_ns


def _history(rows: list[tuple[str, str, str | None, str | None, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            LEAD_ID: [row[0] for row in rows],
            HISTORY_FIELD: [row[1] for row in rows],
            OLD_VALUE: [row[2] for row in rows],
            NEW_VALUE: [row[3] for row in rows],
            CHANGED_AT: pd.Series([day(row[4]) for row in rows], dtype="datetime64[ns, UTC]"),
        }
    )


def _dataset() -> LeadDataset:
    dataset = make_dataset(
        [
            # a: source "web" until day 10, then "partner" (the leads table holds the latest value);
            # employees corrected from 10 to 500 on day 100, after the close: no snapshot may see 500.
            {"id": "a", "created": 0, "status": "won", "closed": 30, "source": "partner", "employees": 500},
            {"id": "b", "created": 0, "status": "lost", "closed": 30, "source": "ads", "employees": 40},
        ]
    )
    dataset.profile_history = _history(
        [
            ("a", "employees", "10", "500", 100),
            ("a", "source", "web", "partner", 10),
        ]
    )
    return dataset


def test_snapshots_see_each_field_as_of_their_cutoff() -> None:
    result = build_snapshots(_dataset(), SnapshotPolicy(every_days=7, horizon_days=60))
    snapshots = result.batch.snapshots
    a = snapshots[snapshots[LEAD_ID] == "a"].assign(day=lambda f: (f[CUTOFF] - T0).dt.days)
    assert a["day"].tolist() == [0, 7, 14, 21, 28]
    assert a["source"].astype(str).tolist() == ["web", "web", "partner", "partner", "partner"]
    assert a["employees"].tolist() == [10.0] * 5  # the change after the cutoff (and the close) is ignored
    b = snapshots[snapshots[LEAD_ID] == "b"]
    assert set(b["source"].astype(str)) == {"ads"} and set(b["employees"]) == {40.0}  # no history: current
    assert isinstance(snapshots["source"].dtype, pd.CategoricalDtype)


def test_a_change_exactly_at_the_cutoff_is_not_yet_seen() -> None:
    dataset = _dataset()
    dataset.profile_history = _history([("a", "source", "web", "partner", 7)])
    result = build_snapshots(dataset, SnapshotPolicy(every_days=7, horizon_days=60))
    a = result.batch.snapshots[result.batch.snapshots[LEAD_ID] == "a"]
    assert a["source"].astype(str).tolist()[:3] == ["web", "web", "partner"]  # days 0, 7 (at), 14


def _reference(
    history: pd.DataFrame,
    lead_ids: list[str],
    lead_idx: np.ndarray,
    cutoffs: pd.Series,
    current: list[object],
) -> list[object]:
    """The rule, one snapshot at a time."""
    out = []
    for lead, cutoff, value in zip(lead_idx, cutoffs, current, strict=True):
        changes = history[history[LEAD_ID] == lead_ids[lead]].sort_values(CHANGED_AT, kind="stable")
        if changes.empty:
            out.append(value)
            continue
        before = changes[changes[CHANGED_AT] < cutoff]
        out.append(before[NEW_VALUE].iloc[-1] if len(before) else changes[OLD_VALUE].iloc[0])
    return out


@pytest.mark.parametrize("numeric", [False, True])
def test_vectorised_values_match_a_plain_reference(numeric: bool) -> None:
    rng = np.random.default_rng(3)
    lead_ids = [f"l{i}" for i in range(40)]
    n_changes = 120
    values = [str(v) for v in rng.integers(0, 6, size=2 * n_changes)]
    history = pd.DataFrame(
        {
            LEAD_ID: rng.choice(lead_ids[:30], size=n_changes),  # l30..l39 have no history
            HISTORY_FIELD: "f",
            OLD_VALUE: values[:n_changes],
            NEW_VALUE: values[n_changes:],
            CHANGED_AT: T0 + pd.to_timedelta(rng.integers(0, 50, size=n_changes), unit="D"),
        }
    )
    lead_idx = rng.integers(0, 40, size=500)
    cutoffs = pd.Series(T0 + pd.to_timedelta(rng.integers(0, 60, size=500), unit="D"))
    current_text = [f"now{i % 3}" if not numeric else str(i % 3 + 100) for i in lead_idx]
    current: np.ndarray | pd.Categorical = (
        np.array(current_text, dtype=np.float64) if numeric else pd.Categorical(current_text)
    )
    got, used = values_as_of(
        history,
        "f",
        pd.Series(lead_ids),
        lead_idx,
        timestamps_ns(cutoffs),
        current,
        numeric=numeric,
    )
    expected = _reference(history, lead_ids, lead_idx, cutoffs, current_text)
    if numeric:
        assert np.array_equal(got, np.array(expected, dtype=np.float64))
    else:
        assert [str(v) for v in np.asarray(got)] == [str(v) for v in expected]
    with_history = set(history[LEAD_ID])
    assert used == sum(1 for i in lead_idx if lead_ids[i] in with_history)


def test_audit_no_longer_blocks_a_field_whose_history_gives_values() -> None:
    dataset = _dataset()
    outcomes = dataset.outcomes
    assert dataset.profile_history is not None
    timestamps_only = dataset.profile_history.drop(columns=[OLD_VALUE, NEW_VALUE])
    assert changed_after_outcome(
        timestamps_only, outcomes, ["employees"], 0.1
    )  # blocks: table has the latest
    assert changed_after_outcome(dataset.profile_history, outcomes, ["employees"], 0.1) == []
