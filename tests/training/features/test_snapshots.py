"""Snapshots and labels: hand-built leads with known cutoffs, labels, censoring; a brute-force check."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from training.data.contract import (
    CLOSED_AT,
    CREATED_AT,
    EVENT_TYPE,
    HANDED_OVER_AT,
    LEAD_ID,
    OCCURRED_AT,
    ROW_ORDER,
    STATUS,
    DatasetMetadata,
    LeadDataset,
    TimeBasis,
    empty_events,
)
from training.data.live_arrays import batch_from_columns
from training.features.snapshots import (
    AT_HANDOVER,
    CUTOFF,
    SnapshotPolicy,
    _evenly_spaced,
    build_snapshots,
)

T0 = pd.Timestamp("2024-01-01", tz="UTC")
POLICY = SnapshotPolicy(every_days=7, horizon_days=30)


def day(d: float | None) -> pd.Timestamp:
    return pd.NaT if d is None else T0 + pd.Timedelta(days=d)


def make_dataset(
    leads: list[dict[str, Any]],
    *,
    observed_until: float | None = 200,
    with_events: bool = True,
    time_basis: TimeBasis = TimeBasis.TIMESTAMPS,
) -> LeadDataset:
    """Leads given as dicts: id, created (day), status, closed (day), handover (day), source, employees."""
    stamps = {k: pd.Series([day(x.get(k)) for x in leads], dtype="datetime64[ns, UTC]") for k in ("created",)}
    lead_table = pd.DataFrame(
        {
            LEAD_ID: pd.Series([x["id"] for x in leads], dtype="str"),
            CREATED_AT: stamps["created"],
            "source": pd.Series([x.get("source", "web") for x in leads], dtype="category"),
            "employees": pd.Series([float(x.get("employees", 10)) for x in leads], dtype="float64"),
        }
    )
    if time_basis == TimeBasis.ROW_ORDER:
        lead_table[CREATED_AT] = pd.Series([pd.NaT] * len(leads), dtype="datetime64[ns, UTC]")
        lead_table[ROW_ORDER] = np.arange(len(leads), dtype=np.int64) * 10
    outcomes = pd.DataFrame(
        {
            LEAD_ID: lead_table[LEAD_ID],
            STATUS: pd.Series([x["status"] for x in leads], dtype="category"),
            HANDED_OVER_AT: pd.Series([day(x.get("handover")) for x in leads], dtype="datetime64[ns, UTC]"),
            CLOSED_AT: pd.Series([day(x.get("closed")) for x in leads], dtype="datetime64[ns, UTC]"),
        }
    )
    if with_events:
        events = pd.DataFrame(
            {
                LEAD_ID: lead_table[LEAD_ID],
                OCCURRED_AT: lead_table[CREATED_AT].fillna(T0),
                EVENT_TYPE: pd.Series(["email_open"] * len(leads), dtype="category"),
            }
        )
    else:
        events = empty_events()
    meta = DatasetMetadata(
        name="tiny",
        time_basis=time_basis,
        observed_until=None if observed_until is None else day(observed_until),
        categorical_columns=["source"],
        numeric_columns=["employees"],
    )
    return LeadDataset(lead_table, events, outcomes, meta)


def rows_of(result: Any, lead: str) -> pd.DataFrame:
    frame = result.batch.snapshots.assign(label=result.label)
    rows = frame[frame[LEAD_ID] == lead]
    return rows.assign(day=(rows[CUTOFF] - T0).dt.days)


def test_won_inside_horizon_labels_every_cutoff_before_close_and_none_after() -> None:
    result = build_snapshots(make_dataset([{"id": "a", "created": 0, "status": "won", "closed": 20}]), POLICY)
    rows = rows_of(result, "a")
    assert rows["day"].tolist() == [0, 7, 14]
    assert rows["label"].tolist() == [1, 1, 1]
    # Cutoffs 21, 28, ..., 196 would lie after the close: not built, counted.
    assert result.counts["after_close"] == 26
    assert result.censored_count == 0


def test_won_after_horizon_is_negative_until_the_horizon_reaches_the_win() -> None:
    result = build_snapshots(make_dataset([{"id": "b", "created": 0, "status": "won", "closed": 50}]), POLICY)
    rows = rows_of(result, "b")
    assert rows["day"].tolist() == [0, 7, 14, 21, 28, 35, 42, 49]
    # closed_at in (cutoff, cutoff + 30]: cutoff >= 20
    assert rows["label"].tolist() == [0, 0, 0, 1, 1, 1, 1, 1]


def test_won_exactly_at_horizon_end_counts_and_cutoff_at_close_is_not_built() -> None:
    result = build_snapshots(make_dataset([{"id": "x", "created": 0, "status": "won", "closed": 35}]), POLICY)
    rows = rows_of(result, "x")
    # 35 is a multiple of 7: the cutoff at day 35 equals closed_at and is not built.
    assert rows["day"].tolist() == [0, 7, 14, 21, 28]
    assert rows["label"].tolist() == [0, 1, 1, 1, 1]  # day 5 + 30 = 35 is inside (5, 35]


def test_lost_lead_is_negative() -> None:
    result = build_snapshots(
        make_dataset([{"id": "c", "created": 0, "status": "lost", "closed": 15}]), POLICY
    )
    rows = rows_of(result, "c")
    assert rows["day"].tolist() == [0, 7, 14]
    assert rows["label"].tolist() == [0, 0, 0]


def test_open_lead_near_the_end_is_censored() -> None:
    result = build_snapshots(make_dataset([{"id": "d", "created": 100, "status": "open"}]), POLICY)
    rows = rows_of(result, "d")
    # Cutoffs 100..198; those with cutoff + 30 > 200 (177, 184, 191, 198) are censored.
    assert rows["day"].tolist() == [100, 107, 114, 121, 128, 135, 142, 149, 156, 163, 170]
    assert rows["label"].tolist() == [0] * 11
    assert result.censored_count == 4
    assert result.counts["censored"] == 4


def test_lead_closed_near_the_end_is_known_not_censored() -> None:
    lead = {"id": "f", "created": 150, "status": "won", "closed": 195}
    result = build_snapshots(make_dataset([lead]), POLICY)
    rows = rows_of(result, "f")
    assert rows["day"].tolist() == [150, 157, 164, 171, 178, 185, 192]
    assert rows["label"].tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert result.censored_count == 0


def test_close_after_observed_until_is_not_trusted() -> None:
    lead = {"id": "i", "created": 150, "status": "won", "closed": 250}
    result = build_snapshots(make_dataset([lead]), POLICY)
    rows = rows_of(result, "i")
    assert rows["day"].tolist() == [150, 157, 164]
    assert rows["label"].tolist() == [0, 0, 0]
    assert result.censored_count == 5  # 171, 178, 185, 192, 199


def test_handover_cutoff_is_included_and_marked() -> None:
    lead = {"id": "e", "created": 0, "status": "won", "closed": 40, "handover": 10}
    with_after = SnapshotPolicy(7, 30, include_after_handover=True)
    result = build_snapshots(make_dataset([lead]), with_after)
    rows = rows_of(result, "e")
    assert rows["day"].tolist() == [0, 7, 10, 14, 21, 28, 35]
    assert rows[AT_HANDOVER].tolist() == [False, False, True, False, False, False, False]
    assert rows["label"].tolist() == [0, 0, 1, 1, 1, 1, 1]
    assert result.counts["handover"] == 1

    # By default a lead is seen until (and at) its handover, not after: that is the population asked about.
    default = build_snapshots(make_dataset([lead]), POLICY)
    assert rows_of(default, "e")["day"].tolist() == [0, 7, 10]
    assert default.counts["after_handover"] == 4

    without = build_snapshots(
        make_dataset([lead]), SnapshotPolicy(7, 30, include_handover=False, include_after_handover=True)
    )
    assert rows_of(without, "e")["day"].tolist() == [0, 7, 14, 21, 28, 35]


def test_handover_on_a_periodic_cutoff_is_not_duplicated() -> None:
    lead = {"id": "e", "created": 0, "status": "won", "closed": 40, "handover": 14}
    with_after = SnapshotPolicy(7, 30, include_after_handover=True)
    rows = rows_of(build_snapshots(make_dataset([lead]), with_after), "e")
    assert rows["day"].tolist() == [0, 7, 14, 21, 28, 35]
    assert rows[AT_HANDOVER].tolist() == [False, False, True, False, False, False]


def test_unplaceable_leads_are_counted_not_silently_dropped() -> None:
    leads = [
        {"id": "won_no_date", "created": 0, "status": "won"},
        {"id": "lost_no_date", "created": 0, "status": "lost"},
        {"id": "no_created", "created": None, "status": "open"},
        {"id": "ok", "created": 0, "status": "lost", "closed": 3},
    ]
    result = build_snapshots(make_dataset(leads), POLICY)
    assert set(result.batch.snapshots[LEAD_ID]) == {"ok"}
    assert result.counts["closed_without_closed_at"] == 2
    assert result.counts["missing_created_at"] == 1
    assert result.counts["leads"] == 4
    assert (
        "2 won or lost leads (50% of the leads) have no closed_at and were left out of training"
        in " ".join(result.notes)
    )
    dated = build_snapshots(make_dataset(leads[2:]), POLICY)
    assert not any("have no closed_at" in note for note in dated.notes)


def test_include_creation_false_starts_one_period_in() -> None:
    lead = {"id": "b", "created": 0, "status": "won", "closed": 50}
    result = build_snapshots(make_dataset([lead]), SnapshotPolicy(7, 30, include_creation=False))
    assert rows_of(result, "b")["day"].tolist() == [7, 14, 21, 28, 35, 42, 49]


def test_max_per_lead_keeps_evenly_spaced_snapshots() -> None:
    assert np.flatnonzero(_evenly_spaced(np.zeros(10, dtype=int), 3)).tolist() == [0, 3, 6]
    groups = np.array([0, 0, 1, 1, 1, 1, 2])
    assert _evenly_spaced(groups, 2).tolist() == [True, True, True, False, True, False, True]
    lead = {"id": "b", "created": 0, "status": "won", "closed": 50}
    result = build_snapshots(make_dataset([lead]), SnapshotPolicy(7, 30, max_per_lead=4))
    assert rows_of(result, "b")["day"].tolist() == [0, 14, 28, 42]
    assert result.counts["thinned"] == 4


def test_row_order_mode_one_snapshot_per_lead_open_censored() -> None:
    leads = [
        {"id": "r0", "status": "won"},
        {"id": "r1", "status": "lost"},
        {"id": "r2", "status": "open"},
        {"id": "r3", "status": "won"},
    ]
    dataset = make_dataset(leads, with_events=False, time_basis=TimeBasis.ROW_ORDER, observed_until=None)
    result = build_snapshots(dataset, POLICY)
    snaps = result.batch.snapshots
    assert snaps[LEAD_ID].tolist() == ["r0", "r1", "r3"]
    assert result.label.tolist() == [1, 0, 1]
    assert result.censored_count == 1
    assert snaps[CUTOFF].isna().all()
    assert result.time_key.tolist() == [0, 10, 30]


def test_eventless_timestamped_export_one_snapshot_at_creation() -> None:
    leads = [
        {"id": "w", "created": 0, "status": "won", "closed": 20},
        {"id": "late_win", "created": 0, "status": "won", "closed": 50},
        {"id": "l", "created": 10, "status": "lost", "closed": 12},
        {"id": "open_old", "created": 10, "status": "open"},
        {"id": "open_new", "created": 190, "status": "open"},
    ]
    result = build_snapshots(make_dataset(leads, with_events=False), POLICY)
    snaps = result.batch.snapshots
    assert snaps[LEAD_ID].tolist() == ["w", "late_win", "l", "open_old"]
    assert (snaps[CUTOFF] == snaps[CREATED_AT]).all()
    assert result.label.tolist() == [1, 0, 0, 0]
    assert result.censored_count == 1
    assert result.time_key.equals(snaps[CUTOFF])


def test_snapshots_carry_profile_columns_and_batch_knows_them() -> None:
    lead = {"id": "a", "created": 0, "status": "won", "closed": 20, "source": "ads", "employees": 42}
    batch = build_snapshots(make_dataset([lead]), POLICY).batch
    assert batch.categorical_columns == ("source",)
    assert batch.numeric_columns == ("employees",)
    assert batch.snapshots["source"].tolist() == ["ads"] * 3
    assert batch.snapshots["employees"].tolist() == [42.0] * 3
    assert isinstance(batch.snapshots["source"].dtype, pd.CategoricalDtype)
    taken = batch.take([2, 0])
    assert taken.categorical_columns == ("source",)
    assert taken.snapshots[CUTOFF].tolist() == [day(14), day(0)]


def _reference(
    leads: list[dict[str, Any]], policy: SnapshotPolicy, until: float
) -> set[tuple[str, float, int]]:
    """One lead at a time, the rules written out plainly: the vectorised build must agree."""
    out = set()
    for lead in leads:
        closed = lead.get("closed") if lead["status"] != "open" else None
        if closed is not None and closed > until:
            closed = None
        cutoffs = []
        k = 0
        while lead["created"] + k * policy.every_days <= until:
            cutoffs.append(lead["created"] + k * policy.every_days)
            k += 1
        handover = lead.get("handover")
        if handover is not None and lead["created"] <= handover <= until and handover not in cutoffs:
            cutoffs.append(handover)
        for c in cutoffs:
            if closed is not None and c >= closed:
                continue
            if handover is not None and c > handover and not policy.include_after_handover:
                continue
            if closed is None and c + policy.horizon_days > until:
                continue
            won = lead["status"] == "won" and closed is not None and c < closed <= c + policy.horizon_days
            out.add((lead["id"], c, int(won)))
    return out


@pytest.mark.parametrize("include_after_handover", [False, True])
def test_vectorised_build_matches_a_plain_reference(include_after_handover: bool) -> None:
    rng = np.random.default_rng(7)
    leads = []
    for i in range(300):
        created = int(rng.integers(0, 180))
        status = str(rng.choice(["won", "lost", "open"]))
        lead: dict[str, Any] = {"id": f"L{i}", "created": created, "status": status}
        if status != "open":
            lead["closed"] = created + int(rng.integers(1, 150))
        if rng.random() < 0.4:
            lead["handover"] = created + int(rng.integers(0, 60)) + float(rng.choice([0, 0.5]))
        leads.append(lead)
    policy = SnapshotPolicy(every_days=5, horizon_days=45, include_after_handover=include_after_handover)
    result = build_snapshots(make_dataset(leads, observed_until=200), policy)
    snaps = result.batch.snapshots
    got = set(
        zip(
            snaps[LEAD_ID],
            ((snaps[CUTOFF] - T0) / pd.Timedelta(days=1)).tolist(),
            result.label.tolist(),
            strict=True,
        )
    )
    assert got == _reference(leads, policy, 200)
    assert len(got) == len(snaps)
    # Snapshots are ordered by lead (input order), then cutoff.
    order = np.asarray(pd.Index(snaps[LEAD_ID]).map({f"L{i}": i for i in range(300)}.get))
    assert (np.diff(order) >= 0).all()
    same_lead = np.diff(order) == 0
    assert (snaps[CUTOFF].diff().dt.total_seconds().to_numpy()[1:][same_lead] > 0).all()


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="every_days"):
        SnapshotPolicy(every_days=0)
    with pytest.raises(ValueError, match="max_per_lead"):
        SnapshotPolicy(max_per_lead=0)


# ---------------------------------------------------------------------------------- batch_from_columns


def test_batch_from_columns_refuses_misaligned_events() -> None:
    with pytest.raises(ValueError, match="do not line up"):
        batch_from_columns(
            ["a"],
            as_of=[None],
            created_at=[None],
            profile={},
            event_counts=[2],
            event_times=["2024-01-01"],
            event_types=["x"],
            default_as_of=T0,
        )


def test_too_few_outcomes_names_the_leads_the_labels_left_out() -> None:
    from training.config import TrainConfig
    from training.model.split import InsufficientDataError
    from training.snapshot_source import LocalSnapshots

    # Every lost lead lacks its close date: left out, so the "not-won" count looks like a data shortage.
    leads = [{"id": f"w{i}", "created": i, "status": "won", "closed": i + 20} for i in range(30)]
    leads += [{"id": f"l{i}", "created": i, "status": "lost"} for i in range(60)]
    with pytest.raises(
        InsufficientDataError, match=r"Note: 60 won or lost leads \(67% of the leads\) have no"
    ):
        LocalSnapshots().prepare(make_dataset(leads), TrainConfig(), lambda _message: None)
