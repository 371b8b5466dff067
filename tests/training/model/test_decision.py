"""The verdict's pure functions, case by case (``training.model.decision``)."""

from __future__ import annotations

import numpy as np
import pytest

from training.model.decision import (
    FROM_MODEL,
    FROM_RULE,
    GONE_COLD,
    RIPE,
    TOO_GREEN,
    carried_cold,
    cold_at_earlier_looks,
    contact_requested,
    decide,
    grade_edges,
    hand_raiser_codes,
    implied_policy,
    latest_event_before,
    needs_earlier_look,
    plain_cold,
    rule_ripe,
    with_hysteresis,
)
from training.model.decision_policy import DecisionPolicy, GoneCold, HandoverEstimate, HandRaisers
from training.model.serving_types import GoneColdRule

DAY = 86_400 * 10**9
NONE = np.iinfo(np.int64).min


def policy(**changes: object) -> DecisionPolicy:
    base = DecisionPolicy(
        threshold=0.2,
        gone_cold=GoneCold(available=True, readiness_level=0.01, min_days_inactive=30.0, exit_factor=2.0),
        hand_raisers=HandRaisers(rule_enabled=False),
    )
    return base.model_copy(update=changes)


# --------------------------------------------------------------------------------------- handover chance
def test_without_a_correction_the_chance_is_the_readiness() -> None:
    estimate = HandoverEstimate()
    assert np.allclose(estimate.chance(np.array([0.05, 0.5]), np.array([True, False])), [0.05, 0.5])


def test_the_correction_maps_readiness_and_a_contact_request() -> None:
    estimate = HandoverEstimate(available=True, intercept=0.5, slope=1.0, contact_coef=1.0)
    plain, asked = estimate.chance(np.array([0.1, 0.1]), np.array([False, True]))
    assert plain == pytest.approx(1 / (1 + np.exp(-(0.5 + np.log(0.1 / 0.9)))))
    assert asked > plain


def test_overlap_flags_leads_greener_than_any_handed_over() -> None:
    estimate = HandoverEstimate(overlap_min_readiness=0.02)
    assert estimate.outside_overlap(np.array([0.01, 0.02, 0.5])).tolist() == [True, False, False]
    assert not HandoverEstimate().outside_overlap(np.array([0.0])).any()


# --------------------------------------------------------------------------------------- hand-raisers
def test_hand_raising_event_types_match_loosely_and_are_configurable() -> None:
    default = HandRaisers()
    names = ["Demo Request", "demo-request", "email_open", "free_trial_signup", "TRIAL_SIGNUP"]
    assert hand_raiser_codes(names, default).tolist() == [True, True, False, True, True]
    custom = HandRaisers(event_types=["Anfrage Beratung"])
    assert hand_raiser_codes(["anfrage_beratung", "demo_request"], custom).tolist() == [True, False]


def test_latest_event_before_is_strictly_before_the_cutoff_and_per_lead() -> None:
    rows_lead, rows_ns = np.array([0, 1, 0]), np.array([10 * DAY, 10 * DAY, 5 * DAY])
    events_lead, events_ns = np.array([0, 0, 1, 1]), np.array([3 * DAY, 10 * DAY, 2 * DAY, 12 * DAY])
    latest = latest_event_before(rows_lead, rows_ns, events_lead, events_ns)
    # lead 0 at day 10: the event at day 10 is not before it; lead 1: only day 2; lead 0 at day 5: day 3
    assert latest.tolist() == [3 * DAY, 2 * DAY, 3 * DAY]
    assert latest_event_before(np.array([2]), np.array([DAY]), events_lead, events_ns).tolist() == [NONE]


def test_contact_requested_only_within_the_window() -> None:
    rows_lead, rows_ns = np.array([0, 1]), np.array([20 * DAY, 20 * DAY])
    events_lead, events_ns = np.array([0, 1, 1]), np.array([14 * DAY, 5 * DAY, 19 * DAY])
    is_hand_raising = np.array([True, True, False])
    flags = contact_requested(rows_lead, rows_ns, events_lead, events_ns, is_hand_raising, 7.0)
    assert flags.tolist() == [True, False]  # lead 1's hand-raising event is 15 days old


def test_contact_requested_with_one_row_per_lead_equals_the_sorted_path() -> None:
    """The API's batches (one row per lead) take a path without a sort; it agrees with the general one
    (the same rows given twice, so that each lead has two rows), unknown and negative lead codes included."""
    rng = np.random.default_rng(11)
    for _ in range(50):
        n, m = int(rng.integers(1, 6)), int(rng.integers(1, 40))
        rows_lead = rng.permutation(8)[:n]
        rows_ns = rng.integers(10, 40, n) * DAY
        events_lead = rng.integers(-1, 10, m)
        events_ns = rng.integers(0, 45, m) * DAY
        hand = rng.random(m) < 0.5
        fast = contact_requested(rows_lead, rows_ns, events_lead, events_ns, hand, 7.0)
        both = contact_requested(
            np.concatenate([rows_lead, rows_lead]),
            np.concatenate([rows_ns, rows_ns]),
            events_lead,
            events_ns,
            hand,
            7.0,
        )
        assert fast.tolist() == both[:n].tolist() == both[n:].tolist()


def test_rule_needs_it_enabled_a_contact_request_and_fit_above_the_floor() -> None:
    contact = np.array([True, True, False, True, True])
    fit = np.array(["B", "D", "A", "C", None], dtype=object)
    off = HandRaisers(rule_enabled=False)
    on = HandRaisers(rule_enabled=True)  # default floor "C": not the lowest fit quartile
    assert not rule_ripe(contact, fit, off).any()
    assert rule_ripe(contact, fit, on).tolist() == [True, False, False, True, False]
    strict = HandRaisers(rule_enabled=True, min_fit="B")
    assert rule_ripe(contact, fit, strict).tolist() == [True, False, False, False, False]
    assert not rule_ripe(contact, None, on).any()


# --------------------------------------------------------------------------------------- gone cold
def test_plain_cold_by_level_or_inactivity_never_when_ripe() -> None:
    rule = GoneCold(available=True, readiness_level=0.01, min_days_inactive=30.0, exit_factor=2.5)
    readiness = np.array([0.005, 0.02, 0.02, 0.02, 0.005, 0.05])
    days = np.array([1.0, 40.0, 5.0, np.nan, 1.0, 40.0])
    ripe = np.array([False, False, False, False, True, False])
    # Quiet and within the band: cold; quiet but clearly warm (0.05 >= 2.5 x 0.01): not cold.
    assert plain_cold(readiness, days, ripe, rule).tolist() == [True, True, False, False, False, False]
    no_level = GoneCold(available=True, min_days_inactive=30.0)
    assert plain_cold(readiness, days, ripe, no_level).tolist() == [False, True, False, False, False, True]
    assert not plain_cold(readiness, days, ripe, GoneCold()).any()


def test_hysteresis_keeps_a_cold_lead_cold_until_it_really_warms() -> None:
    rule = GoneCold(available=True, readiness_level=0.01, exit_factor=2.0)
    cold_now = np.array([False, False, False, True])
    cold_before = np.array([True, True, False, False])
    readiness = np.array([0.015, 0.03, 0.015, 0.005])
    ripe = np.zeros(4, dtype=bool)
    # below 2x the level: stays cold; above it: warm again; never cold before and not now: not cold
    assert with_hysteresis(cold_now, cold_before, readiness, ripe, rule).tolist() == [
        True,
        False,
        False,
        True,
    ]
    assert not with_hysteresis(cold_now, cold_before, readiness, np.ones(4, bool), rule).any()


# --------------------------------------------------------------------------------------- verdicts
def test_verdicts_from_the_model() -> None:
    result = decide(
        policy(),
        readiness=np.array([0.5, 0.05, 0.005]),
        days_inactive=np.array([1.0, 2.0, 3.0]),
        contact=np.zeros(3, dtype=bool),
        fit=np.array(["A", "A", "A"], dtype=object),
    )
    assert result.verdict.tolist() == [RIPE, TOO_GREEN, GONE_COLD]
    assert result.source.tolist() == [FROM_MODEL] * 3
    assert result.handover.tolist() == [True, False, False]


def test_the_rule_makes_a_hand_raiser_ripe_and_says_so() -> None:
    rules = policy(hand_raisers=HandRaisers(rule_enabled=True))
    result = decide(
        rules,
        readiness=np.array([0.05, 0.05, 0.5]),
        days_inactive=np.zeros(3),
        contact=np.array([True, True, True]),
        fit=np.array(["B", "D", "D"], dtype=object),
    )
    assert result.verdict.tolist() == [RIPE, TOO_GREEN, RIPE]
    # The third is ripe by the model already: the rule only speaks where the model does not.
    assert result.source.tolist() == [FROM_RULE, FROM_MODEL, FROM_MODEL]
    assert result.contact_requested.all()


def test_the_earlier_look_keeps_a_lead_cold() -> None:
    p = policy()
    cold_before = cold_at_earlier_looks(p, np.array([0.005, 0.05]), np.array([1.0, 1.0]))
    result = decide(
        p,
        readiness=np.array([0.015, 0.015]),
        days_inactive=np.array([2.0, 2.0]),
        contact=np.zeros(2, dtype=bool),
        fit=None,
        cold_before=cold_before,
    )
    assert result.verdict.tolist() == [GONE_COLD, TOO_GREEN]


def test_the_cold_state_is_carried_through_the_band_over_earlier_looks() -> None:
    """Level 0.01, band top 0.02. Looks newest first. A lead cold three looks ago that has sat inside the
    band since is still cold (one earlier look alone forgot it and the verdict flickered); one that
    reached the band's top since is warm; one that was never cold stays warm; a look before the lead
    existed (+inf) is warm."""
    gone_cold = policy().gone_cold
    readiness = np.array(
        [
            [0.015, 0.015, 0.015, 0.015],  # a week before as_of: inside the band for all
            [0.015, 0.025, 0.015, np.inf],
            [0.005, 0.005, 0.015, np.inf],  # three weeks before: cold for the first two
        ]
    )
    days = np.full(readiness.shape, 2.0)
    ripe = np.zeros(readiness.shape, dtype=bool)
    assert carried_cold(readiness, days, ripe, gone_cold).tolist() == [True, False, False, False]
    # The one-look hysteresis of older policies (earlier_looks = 1) sees only the nearest look.
    assert carried_cold(readiness[:1], days[:1], ripe[:1], gone_cold).tolist() == [False] * 4
    # A ripe look in between warms the lead, as reaching the band's top does.
    ripe[1, 0] = True
    assert not carried_cold(readiness, days, ripe, gone_cold)[0]
    # Without a readiness level there is no band: nothing is carried.
    no_level = gone_cold.model_copy(update={"readiness_level": None, "min_days_inactive": 30.0})
    assert not carried_cold(readiness, days, np.zeros(readiness.shape, bool), no_level).any()


def test_weekly_verdicts_of_a_lead_wavering_inside_the_band_hold_still() -> None:
    """A lead that went cold and then wavers inside the band, dipping under the level every third week:
    with one earlier look its verdict flickered (cold, cold, green, cold, cold, green, ...); with three
    it holds at gone_cold until it really re-warms."""
    weekly = [0.03, 0.005, 0.015, 0.015, 0.008, 0.015, 0.015, 0.009, 0.015, 0.015, 0.025]

    def verdicts(looks: int) -> list[str]:
        p = policy(gone_cold=policy().gone_cold.model_copy(update={"earlier_looks": looks}))
        out = []
        for t in range(len(weekly)):
            earlier = [weekly[t - k] if t - k >= 0 else np.inf for k in range(1, looks + 1)]
            cold_before = cold_at_earlier_looks(p, np.array(earlier)[:, None], np.full((looks, 1), 2.0))
            result = decide(
                p,
                readiness=np.array([weekly[t]]),
                days_inactive=np.array([2.0]),
                contact=np.zeros(1, bool),
                fit=None,
                cold_before=cold_before,
            )
            out.append(str(result.verdict[0]))
        return out

    cold_green = [GONE_COLD, GONE_COLD, TOO_GREEN]
    assert verdicts(1) == [TOO_GREEN, *cold_green * 3, TOO_GREEN]
    assert verdicts(3) == [TOO_GREEN, *[GONE_COLD] * 9, TOO_GREEN]


def test_grade_edges_on_the_chance_below_the_threshold() -> None:
    edges = grade_edges(np.array([0.01, 0.02, 0.03, 0.04, 0.5]), 0.2)
    assert edges.a == 0.2 and edges.c <= edges.b <= edges.a
    assert edges.grades(np.array([0.3, 0.035, 0.025, 0.001])).tolist() == ["A", "B", "C", "D"]
    nothing_below = grade_edges(np.array([0.5]), 0.2)
    assert nothing_below.a == nothing_below.b == nothing_below.c == 0.2


def test_a_card_without_a_policy_implies_readiness_and_its_inactivity_rule() -> None:
    rule = GoneColdRule(
        available=True,
        inactivity_feature="days_since_last_event",
        min_days_inactive=30,
        ripen_rate_beyond=0.01,
        ripen_rate_below_threshold=0.1,
        n_beyond=100,
        max_rate=0.05,
        relative_rate=0.5,
        min_support=30,
        curve=[],
        rule="thirty quiet days",
        fallback_feature=None,
    )
    implied = implied_policy(0.2, 90, rule)
    assert not implied.estimate.available and implied.grade_edges is None
    assert implied.gone_cold.min_days_inactive == 30.0 and implied.gone_cold.readiness_level is None
    result = decide(
        implied,
        readiness=np.array([0.25, 0.1, 0.1]),
        days_inactive=np.array([40.0, 40.0, 10.0]),
        contact=np.zeros(3, dtype=bool),
        fit=None,
    )
    assert result.verdict.tolist() == [RIPE, GONE_COLD, TOO_GREEN]


def test_readiness_for_inverts_the_chance_without_contact() -> None:
    estimate = HandoverEstimate(available=True, intercept=0.4, slope=0.8, contact_coef=1.0)
    r = estimate.readiness_for(0.2)
    assert estimate.chance(np.array([r]), np.array([False]))[0] == pytest.approx(0.2)
    assert HandoverEstimate().readiness_for(0.2) == 0.2


def test_a_lead_that_just_asked_for_contact_is_never_gone_cold() -> None:
    result = decide(
        policy(),
        readiness=np.array([0.005, 0.005, 0.015]),
        days_inactive=np.array([40.0, 40.0, 2.0]),
        contact=np.array([True, False, True]),
        fit=None,
        cold_before=np.ones(3, dtype=bool),
    )
    assert result.verdict.tolist() == [TOO_GREEN, GONE_COLD, TOO_GREEN]


def test_the_earlier_looks_are_needed_exactly_where_they_can_change_the_verdict() -> None:
    """Everywhere ``needs_earlier_look`` says no, ``decide`` gives the same verdict whether the lead was
    cold a lookback earlier or not; where it says yes, that state decides between gone cold and too green."""
    rng = np.random.default_rng(5)
    n = 4000
    readiness = np.exp(rng.uniform(np.log(1e-4), np.log(0.9), n))
    days = np.where(rng.random(n) < 0.1, np.nan, rng.uniform(0, 90, n))
    contact = rng.random(n) < 0.2
    fit = rng.choice(np.array(["A", "B", "C", "D"], dtype=object), n)
    for p in (policy(), policy(hand_raisers=HandRaisers(rule_enabled=True, min_fit="B"))):
        first = decide(p, readiness=readiness, days_inactive=days, contact=contact, fit=fit)
        needed = needs_earlier_look(p, first)
        cold_before, warm_before = (
            decide(
                p,
                readiness=readiness,
                days_inactive=days,
                contact=contact,
                fit=fit,
                cold_before=np.full(n, flag),
            )
            for flag in (True, False)
        )
        assert 0 < needed.sum() < n
        assert (cold_before.verdict[~needed] == warm_before.verdict[~needed]).all()
        assert (first.verdict == warm_before.verdict).all()  # no earlier look: as if warm before
        assert (cold_before.verdict[needed] == GONE_COLD).all() and (
            warm_before.verdict[needed] == TOO_GREEN
        ).all()
    no_band = policy(gone_cold=GoneCold(available=True, min_days_inactive=30.0))
    no_band_first = decide(no_band, readiness=readiness, days_inactive=days, contact=contact, fit=fit)
    assert not needs_earlier_look(no_band, no_band_first).any()
