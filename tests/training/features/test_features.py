"""LeadFeatures: exact values on hand-built leads, point in time, invariances, names, sklearn conventions."""

from __future__ import annotations

import math
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from training.data.contract import CREATED_AT, EVENT_TYPE, LEAD_ID, OCCURRED_AT
from training.data.live_arrays import batch_from_records
from training.features import events as features_events
from training.features.events import EventTimeline, decayed_prefix, type_slots
from training.features.profile import MISSING, OTHER, category_codes
from training.features.snapshot_arrays import SnapshotArrays, codes_of, lead_codes
from training.features.snapshots import CUTOFF, SnapshotBatch, timestamps_ns
from training.features.transformer import LeadFeatures

T0 = pd.Timestamp("2024-01-01", tz="UTC")
TYPES = ("email_click", "webinar_attended", "pricing_page_view", "unsubscribe")


def day(d: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=d)


def make_batch(
    snapshots: list[tuple[str, float, float]],
    events: list[tuple[str, float, str]],
    profiles: dict[str, tuple[str | None, float]] | None = None,
) -> SnapshotBatch:
    """snapshots: (lead, created, cutoff); events: (lead, day, type); profiles: lead -> (source, size)."""
    profiles = profiles or {}
    frame = pd.DataFrame(
        {
            LEAD_ID: pd.Series([s[0] for s in snapshots], dtype="str"),
            CUTOFF: pd.Series([day(s[2]) for s in snapshots], dtype="datetime64[ns, UTC]"),
            CREATED_AT: pd.Series([day(s[1]) for s in snapshots], dtype="datetime64[ns, UTC]"),
            "source": pd.Series([profiles.get(s[0], ("web", 1.0))[0] for s in snapshots], dtype="category"),
            "employees": pd.Series([profiles.get(s[0], ("web", 1.0))[1] for s in snapshots], dtype="float64"),
        }
    )
    table = pd.DataFrame(
        {
            LEAD_ID: pd.Series([e[0] for e in events], dtype="str"),
            OCCURRED_AT: pd.Series([day(e[1]) for e in events], dtype="datetime64[ns, UTC]"),
            EVENT_TYPE: pd.Series([e[2] for e in events], dtype="category"),
        }
    )
    return SnapshotBatch(frame, table, ("source",), ("employees",))


def random_batch(seed: int = 0, n_leads: int = 60, per_lead: int = 3) -> tuple[SnapshotBatch, np.ndarray]:
    rng = np.random.default_rng(seed)
    snapshots, events, profiles = [], [], {}
    for i in range(n_leads):
        lead = f"L{i}"
        created = float(rng.integers(0, 100))
        for k in range(per_lead):
            snapshots.append((lead, created, created + 7 * k + float(rng.random() * 3)))
        for _ in range(int(rng.integers(0, 30))):
            t = created + float(rng.random() * 120)
            events.append((lead, t, str(rng.choice(TYPES, p=[0.5, 0.2, 0.2, 0.1]))))
        profiles[lead] = (
            str(rng.choice(["web", "ads", "partner", "fair"], p=[0.5, 0.3, 0.15, 0.05])),
            float(i),
        )
    batch = make_batch(snapshots, events, profiles)
    y = rng.integers(0, 2, len(snapshots))
    return batch, y


def fitted(batch: SnapshotBatch, y: Any = None, **params: Any) -> LeadFeatures:
    defaults: dict[str, Any] = {"min_event_type_count": 1, "min_category_frequency": 1}
    return LeadFeatures(**{**defaults, **params}).fit(batch, y)


# --------------------------------------------------------------------------------- exact values


def test_known_counts_recency_and_trend_for_a_hand_built_lead() -> None:
    events = [
        ("a", 1, "webinar_attended"),
        ("a", 20, "webinar_attended"),
        ("a", 50, "webinar_attended"),
        ("a", 53, "pricing_page_view"),  # exactly cutoff - 7 days: inside the 7-day window
        ("a", 60, "webinar_attended"),  # exactly at the cutoff: never seen
        ("a", 70, "email_click"),  # after the cutoff: never seen
        ("b", 10, "email_click"),
    ]
    batch = make_batch([("a", 0, 60), ("b", 5, 60)], events)
    features = fitted(batch).transform(batch)
    a = features.iloc[0]
    assert (
        a["webinar_attended_count_7d"],
        a["webinar_attended_count_30d"],
        a["webinar_attended_count_90d"],
    ) == (
        0,
        1,
        3,
    )
    assert a["webinar_attended_days_since_last"] == 10
    # recent 30 days: 1 event; prior 60 days: 2 events -> expected recent at that rate 1 -> log(2) - log(2)
    assert a["webinar_attended_trend_30d_vs_prior_60d"] == pytest.approx(0.0)
    assert a["pricing_page_view_count_7d"] == 1
    assert a["pricing_page_view_days_since_last"] == 7
    assert a["email_click_count_90d"] == 0
    assert math.isnan(a["email_click_days_since_last"])
    assert a["total_events"] == 4
    assert a["events_count_7d"] == 1
    assert a["distinct_event_types_30d"] == 2
    assert a["distinct_event_types_7d"] == 1
    assert a["days_since_last_engagement"] == 7
    assert a["lead_age_days"] == 60
    assert a["has_high_intent"] == 1  # pricing_page_view by the name heuristic
    assert a["days_since_first_high_intent"] == 7
    b = features.iloc[1]
    assert b["email_click_count_90d"] == 1
    assert b["email_click_days_since_last"] == 50
    assert b["has_high_intent"] == 0
    assert math.isnan(b["days_since_first_high_intent"])
    assert b["lead_age_days"] == 55


def test_trend_is_positive_when_recent_activity_rises() -> None:
    events = [("a", 95, "email_click"), ("a", 96, "email_click"), ("a", 40, "email_click")]
    batch = make_batch([("a", 0, 100)], events)
    value = fitted(batch).transform(batch)["email_click_trend_30d_vs_prior_60d"].iloc[0]
    assert value == pytest.approx(math.log1p(2) - math.log1p(0.5))


def test_sub_day_times_are_exact_at_the_cutoff() -> None:
    cutoff = day(30)
    one_ns_before = cutoff - pd.Timedelta(1, "ns")
    batch = make_batch([("a", 0, 30)], [("a", 1, "email_click")])
    batch.events.loc[0, OCCURRED_AT] = one_ns_before
    features = fitted(batch).transform(batch)
    assert features["email_click_count_7d"].iloc[0] == 1
    batch.events.loc[0, OCCURRED_AT] = cutoff
    assert fitted(batch).transform(batch)["email_click_count_7d"].iloc[0] == 0


def test_decayed_counts_for_a_hand_built_lead() -> None:
    events = [
        ("a", 1, "webinar_attended"),
        ("a", 20, "webinar_attended"),
        ("a", 50, "webinar_attended"),
        ("a", 53, "pricing_page_view"),
        ("a", 60, "webinar_attended"),  # at the cutoff: never seen
        ("a", 70, "email_click"),  # after the cutoff: never seen
        ("b", 10, "email_click"),
    ]
    batch = make_batch([("a", 0, 60), ("b", 5, 60), ("a", 0, 20)], events)
    features = fitted(batch, decay_half_lives_days=(14, 7.5)).transform(batch)
    a, b, early = features.iloc[0], features.iloc[1], features.iloc[2]
    webinar_14 = 0.5 ** (59 / 14) + 0.5 ** (40 / 14) + 0.5 ** (10 / 14)
    assert a["webinar_attended_decayed_14d"] == pytest.approx(webinar_14, rel=1e-12)
    assert a["webinar_attended_decayed_7.5d"] == pytest.approx(
        0.5 ** (59 / 7.5) + 0.5 ** (40 / 7.5) + 0.5 ** (10 / 7.5), rel=1e-12
    )
    assert a["pricing_page_view_decayed_14d"] == pytest.approx(0.5 ** (7 / 14), rel=1e-12)
    assert a["email_click_decayed_14d"] == 0
    assert a["engagement_decayed_14d"] == pytest.approx(webinar_14 + 0.5 ** (7 / 14), rel=1e-12)
    assert b["email_click_decayed_14d"] == pytest.approx(0.5 ** (50 / 14), rel=1e-12)
    assert b["webinar_attended_decayed_14d"] == 0
    # The same lead seen earlier: only the event on day 1 (the one on day 20 is at the cutoff).
    assert early["webinar_attended_decayed_14d"] == pytest.approx(0.5 ** (19 / 14), rel=1e-12)
    assert features.filter(like="_decayed_").ge(0).all().all()


def test_decayed_prefix_matches_the_direct_sum_and_survives_long_histories() -> None:
    rng = np.random.default_rng(21)
    lead = np.sort(rng.integers(0, 40, 3000))  # up to ~120 events per lead: several scan passes
    days = np.empty(len(lead))
    for code in np.unique(lead):  # sorted times within each lead, a century apart for some leads
        own = lead == code
        span = 36_500.0 if code % 7 == 0 else 200.0
        days[own] = np.sort(rng.random(own.sum()) * span)
    prefix = decayed_prefix(lead[1:] == lead[:-1], np.diff(days) / 14.0)
    assert np.isfinite(prefix).all()
    for i in rng.choice(len(lead), 200, replace=False):
        own = (lead == lead[i]) & (np.arange(len(lead)) <= i)
        assert prefix[i] == pytest.approx(np.sum(0.5 ** ((days[i] - days[own]) / 14.0)), rel=1e-12)
    assert decayed_prefix(np.zeros(0, dtype=bool), np.zeros(0)).tolist() == [1.0]


def test_decayed_counts_over_two_centuries_stay_finite_and_exact() -> None:
    # A 14-day half-life over 200 years: exp(+t / tau) in a plain cumulative sum would overflow.
    events = [("a", 1, "email_click"), ("a", 73_000, "email_click"), ("a", 73_010, "email_click")]
    batch = make_batch([("a", 0, 100), ("a", 0, 73_020)], events)
    features = fitted(batch).transform(batch)
    assert features["email_click_decayed_14d"].tolist() == pytest.approx(
        [0.5 ** (99 / 14), 0.5 ** (20 / 14) + 0.5 ** (10 / 14)], rel=1e-9
    )


def test_fit_transform_indexes_the_events_once(monkeypatch: pytest.MonkeyPatch) -> None:
    batch, y = random_batch(seed=18)
    expected = fitted(batch, y).transform(batch)
    calls: list[int] = []
    original = LeadFeatures._timeline

    def counting(self: LeadFeatures, b: SnapshotArrays) -> EventTimeline:
        calls.append(len(b))
        return original(self, b)

    monkeypatch.setattr(LeadFeatures, "_timeline", counting)
    got = LeadFeatures(min_event_type_count=1, min_category_frequency=1).fit_transform(batch, y)
    pd.testing.assert_frame_equal(expected, got, check_exact=True)
    assert calls == [len(batch)]  # built to learn the high-intent types, reused for the features
    calls.clear()
    fitted(batch).fit_transform(batch)  # no labels: nothing to learn from the timeline, built once
    assert calls == [len(batch)]


def test_decay_half_lives_are_optional_and_validated() -> None:
    batch, y = random_batch(seed=19)
    plain = fitted(batch, y, decay_half_lives_days=())
    assert not any("decayed" in name for name in plain.get_feature_names_out())
    assert plain.transform(batch).shape[1] == len(plain.get_feature_names_out())
    with pytest.raises(ValueError, match="decay_half_lives_days"):
        LeadFeatures(decay_half_lives_days=(14, 0)).fit(batch)
    with pytest.raises(ValueError, match="decay_half_lives_days"):
        LeadFeatures(decay_half_lives_days=(14, 14.0)).fit(batch)


def test_rare_event_types_pool_into_other_event() -> None:
    events = [("a", 1, "email_click")] * 3 + [("a", 2, "fax_sent"), ("a", 3, "carrier_pigeon")]
    batch = make_batch([("a", 0, 10)], events)
    transformer = fitted(batch, min_event_type_count=2)
    features = transformer.transform(batch)
    assert transformer.event_types_ == ("email_click",)
    assert set(transformer.rare_event_types_) == {"fax_sent", "carrier_pigeon"}
    assert features["other_event_count_30d"].iloc[0] == 2
    assert features["email_click_count_30d"].iloc[0] == 3
    assert transformer.feature_groups_["other_event_count_30d"] == "other_event"
    assert transformer.unknown_event_types(batch) == set()


# ----------------------------------------------------------------------------------- point in time


def test_events_at_or_after_the_cutoff_never_change_features() -> None:
    batch, y = random_batch(seed=1)
    transformer = fitted(batch, y)
    before = transformer.transform(batch)
    rng = np.random.default_rng(2)
    # Events at or after each lead's latest cutoff: invisible to every snapshot of that lead.
    latest = batch.snapshots.groupby(LEAD_ID)[CUTOFF].max()
    late_leads = np.repeat(latest.index.to_numpy(), 5)
    offsets = pd.to_timedelta(
        np.r_[np.zeros(len(latest)), rng.random(len(late_leads) - len(latest)) * 50], "D"
    )
    late = pd.DataFrame(
        {
            LEAD_ID: pd.Series(late_leads, dtype="str"),
            OCCURRED_AT: latest.repeat(5).reset_index(drop=True) + offsets,
            EVENT_TYPE: pd.Series(rng.choice(TYPES, len(late_leads)), dtype="category"),
        }
    )
    events = pd.concat([batch.events, late], ignore_index=True)
    after = transformer.transform(SnapshotBatch(batch.snapshots, events, ("source",), ("employees",)))
    pd.testing.assert_frame_equal(before, after, check_exact=True)


def test_late_events_per_snapshot_do_not_leak_into_that_snapshot() -> None:
    batch, y = random_batch(seed=3, per_lead=1)
    transformer = fitted(batch, y)
    before = transformer.transform(batch)
    cutoffs = batch.snapshots[CUTOFF]
    late = pd.DataFrame(
        {
            LEAD_ID: batch.snapshots[LEAD_ID],
            OCCURRED_AT: cutoffs,  # exactly at the cutoff
            EVENT_TYPE: pd.Series(["pricing_page_view"] * len(cutoffs), dtype="category"),
        }
    )
    events = pd.concat([batch.events, late], ignore_index=True)
    after = transformer.transform(SnapshotBatch(batch.snapshots, events, ("source",), ("employees",)))
    pd.testing.assert_frame_equal(before, after, check_exact=True)
    # ... while the same events one second earlier do count: the test can see leakage.
    late[OCCURRED_AT] = cutoffs - pd.Timedelta(seconds=1)
    events = pd.concat([batch.events, late], ignore_index=True)
    moved = transformer.transform(SnapshotBatch(batch.snapshots, events, ("source",), ("employees",)))
    assert (moved["pricing_page_view_count_7d"] == before["pricing_page_view_count_7d"] + 1).all()


def test_row_order_of_events_and_snapshots_changes_nothing() -> None:
    batch, y = random_batch(seed=4)
    transformer = fitted(batch, y)
    expected = transformer.transform(batch)
    rng = np.random.default_rng(5)
    event_order = rng.permutation(len(batch.events))
    snapshot_order = rng.permutation(len(batch))
    shuffled = SnapshotBatch(
        batch.snapshots.iloc[snapshot_order].reset_index(drop=True),
        batch.events.iloc[event_order].reset_index(drop=True),
        batch.categorical_columns,
        batch.numeric_columns,
    )
    got = transformer.transform(shuffled)
    restored = got.iloc[np.argsort(snapshot_order)].reset_index(drop=True)
    pd.testing.assert_frame_equal(expected, restored, check_exact=True)


def test_string_or_categorical_lead_ids_give_the_same_features() -> None:
    batch, y = random_batch(seed=6)
    transformer = fitted(batch, y)
    events = batch.events.assign(**{LEAD_ID: batch.events[LEAD_ID].astype("category")})
    same = transformer.transform(SnapshotBatch(batch.snapshots, events, ("source",), ("employees",)))
    pd.testing.assert_frame_equal(transformer.transform(batch), same, check_exact=True)


def test_lead_codes_agree_for_every_kind_of_id_column() -> None:
    """Text ids go through Arrow's hash lookup, other columns through factorize: the same codes, with
    -1 for missing ids and ids of leads without a snapshot."""
    snapshot_leads = pd.Series(["L3", "L1", "L2", "L1"])
    texts = ["L2", None, "L9", "L1", "L3", "L1"]
    expected = [2, -1, -1, 1, 0, 1]
    for events in (
        pd.Series(texts, dtype=object),
        pd.Series(texts, dtype="str"),
        pd.Series(texts, dtype="string"),
        pd.Series(texts, dtype="category"),
    ):
        codes, event_codes, n = lead_codes(snapshot_leads, events)
        assert codes.tolist() == [0, 1, 2, 1] and n == 3
        assert event_codes.tolist() == expected, events.dtype
    numbers = lead_codes(pd.Series([3, 1, 2]), pd.Series([2, 7, 3]))[1]
    mixed = lead_codes(pd.Series(["3", "1"]), pd.Series([3, "1", 5], dtype=object))[1]
    assert numbers.tolist() == [2, -1, 0] and mixed.tolist() == [0, 1, -1]


def test_coarse_time_units_agree_with_nanoseconds_on_whole_seconds() -> None:
    batch, _ = random_batch(seed=8)
    snapshot_codes, event_codes, n_leads = lead_codes(batch.snapshots[LEAD_ID], batch.events[LEAD_ID])
    slots = type_slots(*codes_of(batch.events[EVENT_TYPE]), {t: i for i, t in enumerate(TYPES)})
    cutoffs = timestamps_ns(batch.snapshots[CUTOFF]) // 10**9 * 10**9
    times = timestamps_ns(batch.events[OCCURRED_AT]) // 10**9 * 10**9
    args = (snapshot_codes, cutoffs, event_codes, slots, times)
    fine = EventTimeline(*args, n_leads, len(TYPES), 90 * 86_400 * 10**9)
    coarse = EventTimeline(*args, 10**9, len(TYPES), 90 * 86_400 * 10**9)  # pretend a billion leads
    assert fine.unit <= 10**3  # microseconds at most: finer than the whole seconds compared below
    assert coarse.unit == 10**9
    everything = slice(0, len(TYPES))
    np.testing.assert_array_equal(
        fine.count(everything, 30 * 86_400 * 10**9), coarse.count(everything, 30 * 86_400 * 10**9)
    )
    np.testing.assert_array_equal(fine.days_since_last(everything), coarse.days_since_last(everything))
    np.testing.assert_allclose(
        fine.decayed(everything, 14 * 86_400 * 10**9),
        coarse.decayed(everything, 14 * 86_400 * 10**9),
        rtol=1e-12,
    )


@pytest.mark.parametrize("one_scan_events", [features_events.ONE_SCAN_EVENTS, 0])
def test_chunks_of_slots_give_the_same_features_as_all_slots_at_once(
    monkeypatch: pytest.MonkeyPatch, one_scan_events: int
) -> None:
    # Training batches query a slot or a few at a time (bounded memory), the API all slots at once; the
    # decay scan runs over a whole chunk or slot by slot: the values must not depend on any of it.
    batch, y = random_batch(seed=12)
    transformer = fitted(batch, y)
    at_once = transformer.transform(batch)
    monkeypatch.setattr(features_events, "ONE_SCAN_EVENTS", one_scan_events)
    pd.testing.assert_frame_equal(at_once, transformer.transform(batch), check_exact=True)
    original = EventTimeline.__init__

    def one_slot_per_chunk(self: EventTimeline, *args: object, **kwargs: object) -> None:
        original(self, *args, **{**kwargs, "max_cells": 1})  # type: ignore[arg-type]

    monkeypatch.setattr(EventTimeline, "__init__", one_slot_per_chunk)
    slot_by_slot = transformer.transform(batch)
    pd.testing.assert_frame_equal(at_once, slot_by_slot, check_exact=True)
    timeline = transformer._timeline(SnapshotArrays.from_batch(batch, ("source",), ("employees",)))
    assert len(timeline.chunks) == len(transformer.slot_names_) > 1


# ------------------------------------------------------------------------------ names and vocabulary


def test_feature_names_are_readable_stable_and_match_the_output() -> None:
    batch, y = random_batch(seed=9)
    transformer = fitted(batch, y)
    names = list(transformer.get_feature_names_out())
    features = transformer.transform(batch)
    assert list(features.columns) == names
    assert list(transformer.transform(batch.take([3, 1])).columns) == names
    for expected in (
        "webinar_attended_count_30d",
        "pricing_page_view_days_since_last",
        "email_click_trend_30d_vs_prior_60d",
        "unsubscribe_count_90d",
        "distinct_event_types_30d",
        "lead_age_days",
        "days_since_last_engagement",
        "days_since_first_high_intent",
        "total_events",
        "webinar_attended_decayed_14d",
        "email_click_decayed_45d",
        "engagement_decayed_14d",
        "source",
        "employees",
    ):
        assert expected in names
    assert set(transformer.feature_groups_) == set(names)
    assert transformer.feature_groups_["webinar_attended_count_30d"] == "webinar_attended"
    assert transformer.feature_groups_["email_click_days_since_last"] == "email_click"
    assert transformer.feature_groups_["email_click_decayed_45d"] == "email_click"
    assert transformer.feature_groups_["engagement_decayed_14d"] == "engagement"
    assert transformer.feature_groups_["source"] == "source"
    assert len(set(names)) == len(names)


def test_output_dtypes_are_float64_and_category() -> None:
    batch, y = random_batch(seed=10)
    transformer = fitted(batch, y)
    features = transformer.transform(batch)
    assert transformer.categorical_features_ == ["source"]
    assert isinstance(features["source"].dtype, pd.CategoricalDtype)
    others = features.drop(columns=["source"])
    assert (others.dtypes == np.float64).all()
    assert fitted(batch, y, float_dtype="float32").transform(batch)["total_events"].dtype == np.float32


def test_unseen_event_types_are_ignored_and_reported() -> None:
    batch, y = random_batch(seed=11)
    transformer = fitted(batch, y)
    extra = batch.events.iloc[:20].assign(**{EVENT_TYPE: pd.Categorical(["hologram_call"] * 20)})
    events = pd.concat([batch.events, extra], ignore_index=True)
    with_new = SnapshotBatch(batch.snapshots, events, ("source",), ("employees",))
    pd.testing.assert_frame_equal(
        transformer.transform(batch), transformer.transform(with_new), check_exact=True
    )
    assert transformer.unknown_event_types(with_new) == {"hologram_call"}
    assert transformer.unknown_event_types(batch) == set()


def test_categorical_levels_rare_unseen_and_missing() -> None:
    profiles = {f"L{i}": ("web" if i < 5 else "ads", float(i)) for i in range(8)}
    profiles["L7"] = ("fair", 7.0)  # rare: 1 occurrence
    batch = make_batch([(f"L{i}", 0, 10) for i in range(8)], [], profiles)
    transformer = LeadFeatures(min_category_frequency=2).fit(batch)
    assert transformer.category_levels_["source"] == ["ads", "web"]
    live = make_batch(
        [("n1", 0, 10), ("n2", 0, 10), ("n3", 0, 10), ("n4", 0, 10)],
        [],
        {"n1": ("web", 1.0), "n2": ("fair", 1.0), "n3": ("radio", 1.0), "n4": (None, 1.0)},
    )
    source = transformer.transform(live)["source"]
    assert source.astype(str).tolist() == ["web", OTHER, OTHER, MISSING]
    assert list(source.cat.categories) == ["ads", "web", OTHER, MISSING]
    assert list(transformer.transform(batch)["source"].cat.categories) == ["ads", "web", OTHER, MISSING]


def test_high_intent_types_by_name_by_lift_and_by_parameter() -> None:
    batch, _ = random_batch(seed=12)
    assert fitted(batch).high_intent_event_types_ == ("pricing_page_view",)
    # Labels: positive exactly when the lead had a webinar before the cutoff -> webinar has the top lift.
    had_webinar = fitted(batch).transform(batch)["webinar_attended_count_90d"].to_numpy() > 0
    by_lift = fitted(batch, had_webinar.astype(int), max_high_intent_types=1)
    assert by_lift.high_intent_event_types_ == ("webinar_attended",)
    given = fitted(batch, None, high_intent_event_types=("email_click", "not_a_type"))
    assert given.high_intent_event_types_ == ("email_click",)
    features = given.transform(batch)
    assert (features["has_high_intent"] == (features["email_click_days_since_last"].notna())).all()


# -------------------------------------------------------------------------- no events / row order


def test_profile_only_when_training_has_no_events_and_no_cutoffs() -> None:
    batch = make_batch([("a", 0, 0), ("b", 0, 0)], [], {"a": ("web", 3.0), "b": (None, np.nan)})
    batch.snapshots[CUTOFF] = pd.NaT
    transformer = LeadFeatures(min_category_frequency=1).fit(batch)
    features = transformer.transform(batch)
    assert list(features.columns) == ["employees", "source"]
    assert features["source"].astype(str).tolist() == ["web", MISSING]
    assert features["employees"].iloc[0] == 3.0
    assert math.isnan(features["employees"].iloc[1])


def test_event_model_on_a_batch_without_events_and_with_nat_cutoffs() -> None:
    batch, y = random_batch(seed=13)
    transformer = fitted(batch, y)
    quiet = SnapshotBatch(batch.snapshots.iloc[:2].copy(), batch.events.iloc[:0], ("source",), ("employees",))
    quiet.snapshots.loc[1, CUTOFF] = pd.NaT
    features = transformer.transform(quiet)
    assert features["total_events"].iloc[0] == 0
    assert math.isnan(features["email_click_days_since_last"].iloc[0])
    assert features.drop(columns=["source", "employees"]).iloc[1].isna().all()


def test_missing_profile_column_at_transform_is_named() -> None:
    batch, y = random_batch(seed=14)
    transformer = fitted(batch, y)
    broken = SnapshotBatch(batch.snapshots.drop(columns=["employees"]), batch.events)
    with pytest.raises(ValueError, match="employees"):
        transformer.transform(broken)
    arrays = SnapshotArrays.from_batch(batch, ("source",), ())  # the arrays road names it too
    with pytest.raises(ValueError, match="employees"):
        transformer.transform_arrays(arrays)


# ---------------------------------------------------------------------------------- serving parity


def test_batch_from_records_gives_the_same_features_as_tables() -> None:
    batch, y = random_batch(seed=15, per_lead=1)
    # Live leads are parsed as LeadIn (the API's schema), whose times hold microseconds: compare tables
    # at that resolution.
    snaps, events = batch.snapshots, batch.events
    snaps = snaps.assign(
        **{CUTOFF: snaps[CUTOFF].dt.floor("us"), CREATED_AT: snaps[CREATED_AT].dt.floor("us")}
    )
    events = events.assign(**{OCCURRED_AT: events[OCCURRED_AT].dt.floor("us")})
    batch = SnapshotBatch(snaps, events, batch.categorical_columns, batch.numeric_columns)
    transformer = fitted(batch, y)
    records = []
    for _, row in snaps.iterrows():
        own = events[events[LEAD_ID] == row[LEAD_ID]]
        records.append(
            {
                LEAD_ID: row[LEAD_ID],
                "as_of": row[CUTOFF].isoformat(),
                CREATED_AT: row[CREATED_AT].isoformat(),
                "source": row["source"],
                "employees": row["employees"],
                "events": [
                    {"occurred_at": t.isoformat(), "event_type": str(e)}
                    for t, e in zip(own[OCCURRED_AT], own[EVENT_TYPE], strict=True)
                ],
            }
        )
    live = batch_from_records(
        records, categorical_columns=["source"], numeric_columns=["employees"], default_as_of=T0
    )
    pd.testing.assert_frame_equal(transformer.transform(batch), transformer.transform(live), check_exact=True)


# ----------------------------------------------------------------------------- sklearn conventions


def test_sklearn_conventions() -> None:
    batch, y = random_batch(seed=16)
    transformer = LeadFeatures(windows_days=(7, 30), min_event_type_count=1, min_category_frequency=1)
    with pytest.raises(NotFittedError):
        transformer.transform(batch)
    with pytest.raises(NotFittedError):
        transformer.get_feature_names_out()
    params = transformer.get_params()
    assert params["windows_days"] == (7, 30)
    copy = clone(transformer)
    assert copy.get_params() == params
    assert not hasattr(copy, "feature_names_")
    assert transformer.fit(batch, y) is transformer
    assert not hasattr(copy, "feature_names_")  # clone shares no fitted state
    copy.set_params(windows_days=(14,))
    copy.fit(batch, y)
    assert "email_click_count_14d" in copy.get_feature_names_out()
    assert "email_click_count_7d" not in copy.get_feature_names_out()
    pd.testing.assert_frame_equal(transformer.fit_transform(batch, y), transformer.transform(batch))
    restored = pickle.loads(pickle.dumps(transformer))
    pd.testing.assert_frame_equal(restored.transform(batch), transformer.transform(batch), check_exact=True)


def test_bad_parameters_are_rejected_at_fit() -> None:
    batch, _ = random_batch(seed=17)
    with pytest.raises(ValueError, match="windows_days"):
        LeadFeatures(windows_days=(0, 30)).fit(batch)
    with pytest.raises(ValueError, match="trend_days"):
        LeadFeatures(trend_days=(90, 30)).fit(batch)
    with pytest.raises(TypeError, match="SnapshotBatch"):
        LeadFeatures().fit(batch.snapshots)  # type: ignore[arg-type]


def test_awkward_event_type_names_get_unique_readable_stems() -> None:
    events = [
        ("a", 1, "Webinar Attended!"),
        ("a", 2, "webinar_attended"),
        ("a", 3, "events"),
        ("a", 4, "events"),
    ]
    batch = make_batch([("a", 0, 10)], events)
    transformer = fitted(batch)
    features = transformer.transform(batch)
    names = list(transformer.get_feature_names_out())
    assert len(set(names)) == len(names)
    assert transformer.feature_groups_["webinar_attended_2_count_7d"] == "webinar_attended"
    assert transformer.feature_groups_["webinar_attended_count_7d"] == "Webinar Attended!"
    assert features["events_2_count_30d"].iloc[0] == 2  # the event type "events", not all events
    assert features["events_count_30d"].iloc[0] == 4


def test_several_half_lives_in_one_scan_equal_one_scan_each() -> None:
    """``EventTimeline.decayed`` with a list of half-lives scans them together: the values must equal, to
    the bit, one call per half-life, on both the one-scan and the slot-by-slot path."""
    rng = np.random.default_rng(8)
    n_events, n_leads, n_slots = 4000, 60, 5
    event_leads = rng.integers(0, n_leads, n_events)
    event_ns = rng.integers(0, 400 * 86_400, n_events).astype(np.int64) * 10**9
    slots = rng.integers(-1, n_slots, n_events)
    cutoff_ns = rng.integers(100 * 86_400, 420 * 86_400, n_leads).astype(np.int64) * 10**9
    half_lives = [14 * 86_400 * 10**9, 45 * 86_400 * 10**9, 3 * 86_400 * 10**9]
    for one_scan in (2**16, 2**6):
        timeline = EventTimeline(
            np.arange(n_leads), cutoff_ns, event_leads, slots, event_ns, n_leads, n_slots, 90 * 86_400 * 10**9
        )
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("training.features.events.ONE_SCAN_EVENTS", one_scan)
            for chunk in (slice(0, n_slots), slice(1, 3)):
                together = timeline.decayed(chunk, half_lives)
                for k, half_life in enumerate(half_lives):
                    alone = timeline.decayed(chunk, half_life)
                    assert together.shape[1:] == alone.shape
                    assert np.array_equal(together[k], alone)


def test_category_codes_map_known_unseen_and_missing_values() -> None:
    levels = ["de", "fr"]  # category order: de, fr, other, missing
    codes = np.array([0, -1, 1, 2, 3, -1])
    distinct = ["fr", "us", OTHER, "de"]  # "us" unseen; a raw "other" is not a learned level
    assert category_codes(codes, distinct, levels).tolist() == [1, 3, 2, 2, 0, 3]
    assert category_codes(codes, distinct, levels).dtype == np.int32
    # No distinct values at all: every row is missing.
    assert category_codes(np.array([-1, -1]), [], levels).tolist() == [3, 3]
