"""Reasons built from facts, on a real model: thousands of simulated leads, every sentence checked.

The checks read the structured fields of each reason (kind, value, reference, direction, contribution,
evidence) and verify the sentence against them with rules written independently of the sentence code:
the sentence states the lead's value and the reference, says "raises" exactly when the contribution is
positive, and quotes win rates only when they point the same way and differ as shown.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from serving.schemas import LeadScore
from serving.scorer import LeadScorer
from training.config import TrainConfig
from training.data.contract import LeadDataset
from training.data.live import LeadIn
from training.pipeline import TrainingOutcome, fit_and_evaluate
from training.report.data import ReportData, assemble_report_data
from training.report.importance_summary import MAX_CONTRIBUTION_ROWS
from training.report.render import render_report
from training.simulation.simulator import simulate

N_LEADS = 1200
N_LOOKS = 3000
DAY_KINDS = {"event_recency", "inactivity", "lead_age", "first_high_intent"}
COUNT_KINDS = {"event_count", "engagement_count", "engagement_total", "breadth"}
DERIVED_KINDS = {
    "event_trend",
    "event_decayed",
    "engagement_trend",
    "engagement_decayed",
    "breadth",
    "lead_age",
    "inactivity",
    "first_high_intent",
    "has_high_intent",
}


@pytest.fixture(scope="module")
def trained() -> tuple[LeadDataset, TrainingOutcome]:
    dataset = simulate(N_LEADS, seed=21).dataset
    # Enough won leads for sentences to check, fewer than the 40 per side a served model needs.
    config = TrainConfig(
        n_bootstrap=10,
        max_snapshots_per_lead=20,
        min_positives=15,
        min_negatives=15,
        model={"n_estimators": 120},
    )
    return dataset, fit_and_evaluate(dataset, config)


@pytest.fixture(scope="module")
def scorer(trained: tuple[LeadDataset, TrainingOutcome]) -> LeadScorer:
    return LeadScorer(trained[1].bundle, version="1", source="memory")


def lead_looks(dataset: LeadDataset, n: int, seed: int = 0) -> list[LeadIn]:
    """``n`` requests: random leads, each seen at a random time between creation and creation + 150 days."""
    rng = np.random.default_rng(seed)
    leads = dataset.leads.reset_index(drop=True)
    events = dataset.events.sort_values("occurred_at")
    by_lead = {lead_id: group for lead_id, group in events.groupby("lead_id", sort=False)}
    profile_columns = list(dataset.metadata.profile_columns)
    end = pd.Timestamp(dataset.metadata.observed_until)
    looks = []
    for position in rng.integers(0, len(leads), n):
        row = leads.iloc[int(position)]
        created = pd.Timestamp(row["created_at"])
        as_of = min(created + pd.Timedelta(days=float(rng.uniform(0.5, 150))), end)
        own = by_lead.get(row["lead_id"])
        looks.append(
            LeadIn(
                lead_id=str(row["lead_id"]),
                created_at=created.to_pydatetime(warn=False),
                as_of=as_of.to_pydatetime(warn=False),
                profile={c: _plain(row[c]) for c in profile_columns},
                events=[]
                if own is None
                else [
                    {"occurred_at": t.to_pydatetime(warn=False), "event_type": str(e)}
                    for t, e in zip(own["occurred_at"], own["event_type"], strict=True)
                    if t < as_of
                ],
            )
        )
    return looks


def _plain(value: Any) -> str | float | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return value if isinstance(value, str) else float(value)


@pytest.fixture(scope="module")
def answers(trained: tuple[LeadDataset, TrainingOutcome], scorer: LeadScorer) -> list[dict[str, Any]]:
    looks = lead_looks(trained[0], N_LOOKS)
    out: list[dict[str, Any]] = []
    for start in range(0, len(looks), 500):
        out += scorer.score_payloads(
            looks[start : start + 500], default_as_of=datetime.now(UTC), reasons_per_side=50
        )
    return out


# ----------------------------------------------------------------------------------- sentence rules


def _days_text(days: float) -> str:
    if days < 1:
        hours = round(days * 24)
        return "less than an hour" if hours < 1 else f"{hours} hour"
    return f"{round(days)} day"


def _numbers(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"-?\d[\d,]*\.?\d*", text)]


def check_value_stated(reason: dict[str, Any]) -> None:
    """The part before "; " states the lead's value."""
    kind, value, sentence = reason["kind"], reason["value"], reason["sentence"]
    what = sentence.split("; ")[0].lower()
    if kind in COUNT_KINDS:
        assert value is not None
        count = round(value)
        assert what.startswith("no ") if count == 0 else float(count) in _numbers(what), sentence
    elif kind in DAY_KINDS:
        if value is None:
            assert "never" in what or "no " in what or "unknown" in what, sentence
        else:
            assert _days_text(value) in what, sentence
    elif kind in ("event_trend", "engagement_trend"):
        word = (
            "unknown"
            if value is None
            else "rising"
            if value > 0.05
            else "falling"
            if value < -0.05
            else "steady"
        )
        assert f" {word} (" in what or f"trend {word}" in what, sentence
    elif kind in ("event_decayed", "engagement_decayed"):
        if value is None or value < 0.05:
            assert what.startswith("no recent"), sentence
        else:
            shown = _numbers(what.split("worth")[1])[0]
            assert shown == pytest.approx(value, rel=0.06, abs=0.01), sentence
    elif kind == "has_high_intent":
        assert ("has shown high intent" in what) == bool(value), sentence
    elif kind == "profile_categorical":
        assert (str(value).lower() if value != "missing" else "unknown") in what, sentence
    elif kind == "profile_numeric":
        if value is None:
            assert "unknown" in what, sentence
        else:
            assert _numbers(what)[-1] == pytest.approx(value, rel=0.06, abs=0.01), sentence
    else:
        raise AssertionError(f"unknown kind {kind}")


def check_reference_stated(reason: dict[str, Any]) -> None:
    kind, reference = reason["kind"], reason["reference"]
    after = reason["sentence"].split("; ")[1].split(".")[0]
    assert "typical" in after or "most common" in after, reason["sentence"]
    if "like typical leads" in after or "the most common value" in after:
        return  # the value equals the reference as shown: checked by the value rule
    if kind in COUNT_KINDS:
        typical = round(reference or 0)
        assert after.endswith("none") if typical == 0 else float(typical) in _numbers(after), reason[
            "sentence"
        ]
    elif kind in DAY_KINDS and reference is not None:
        assert _days_text(reference) in after, reason["sentence"]
    elif kind == "profile_categorical":
        assert str(reference) in after, reason["sentence"]


def check_direction(reason: dict[str, Any]) -> None:
    up = reason["contribution"] > 0
    assert reason["direction"] == ("up" if up else "down")
    assert ("This raises the score" in reason["sentence"]) == up, reason["sentence"]
    assert ("This lowers the score" in reason["sentence"]) == (not up), reason["sentence"]
    evidence = reason["evidence"]
    if evidence is None:
        assert "were won" not in reason["sentence"], reason["sentence"]
        return
    better = evidence["win_rate"] > evidence["compared_win_rate"]
    assert better == up, f"win rates contradict the direction: {reason['sentence']}"
    assert ("were won more often" in reason["sentence"]) == better
    shown = re.findall(r"\((\d+(?:\.\d)?)% vs (\d+(?:\.\d)?)%\)", reason["sentence"])
    assert len(shown) == 1 and shown[0][0] != shown[0][1], reason["sentence"]
    assert float(shown[0][0]) == pytest.approx(evidence["win_rate"] * 100, abs=0.51)
    assert float(shown[0][1]) == pytest.approx(evidence["compared_win_rate"] * 100, abs=0.51)


# ------------------------------------------------------------------------------------------- tests


def test_every_sentence_agrees_with_its_facts(answers: list[dict[str, Any]]) -> None:
    n_reasons, kinds = 0, set()
    for answer in answers:
        explanation = answer["reasons"]
        quoted: list[str] = []
        for reason in explanation["positive"] + explanation["negative"]:
            check_direction(reason)
            check_value_stated(reason)
            check_reference_stated(reason)
            assert reason["feature"] not in reason["sentence"] or "_" not in reason["feature"]
            if reason["evidence"] is not None:
                quoted.append(reason["signal"])
            n_reasons += 1
            kinds.add(reason["kind"])
        assert len(quoted) == len(set(quoted)), "a signal's win rates are quoted once per lead"
    assert n_reasons > 50 * len(answers) / 2
    # Derived features speak in their own words (test_sentences covers every kind on its own).
    assert len(kinds & DERIVED_KINDS) >= 5, kinds


def test_win_rates_are_quoted_where_they_agree(answers: list[dict[str, Any]]) -> None:
    quoted = [
        r for a in answers for r in a["reasons"]["positive"] + a["reasons"]["negative"] if r["evidence"]
    ]
    assert len(quoted) > len(answers)  # evidence is common, not an exception
    assert {r["direction"] for r in quoted} == {"up", "down"}


def test_answers_validate_and_add_up(answers: list[dict[str, Any]]) -> None:
    for answer in answers[:200]:
        LeadScore.model_validate(answer)
    for answer in answers:
        e = answer["reasons"]
        listed = sum(r["contribution"] for r in e["positive"] + e["negative"]) + e["other_contributions"]
        assert e["base_value"] + listed == pytest.approx(e["raw_score"], abs=1e-9)
        assert e["fit_contribution"] + e["interest_contribution"] == pytest.approx(listed, abs=1e-9)


def test_fit_and_interest_are_quartiles_of_the_axes(
    trained: tuple[LeadDataset, TrainingOutcome], answers: list[dict[str, Any]], scorer: LeadScorer
) -> None:
    axes = scorer.explainer.stats.axes
    fit_edges, interest_edges = axes.fit.edges, axes.interest.edges
    looks = lead_looks(trained[0], N_LOOKS)  # the answers' requests, in order
    never_engaged = 0
    for answer, look in zip(answers, looks, strict=True):
        e = answer["reasons"]
        fit = "DCBA"[int(np.searchsorted(fit_edges, e["fit_contribution"], side="right"))]
        interest = 4 - int(np.searchsorted(interest_edges, e["interest_contribution"], side="right"))
        assert (answer["fit"], answer["interest"]) == (fit, interest)
        assert answer["fit_interest"] == f"{fit}{interest}"
        # A lead without any event is never called engaged, whatever its interest grade.
        never = not look.events
        never_engaged += never
        good, engaged = fit in "AB", interest <= 2 and not never
        summary = answer["fit_interest_summary"]
        assert ("good fit" in summary) == good and ("poor fit" in summary) == (not good)
        assert ("not engaged yet" in summary or "no engagement yet" in summary) == (not engaged)
        assert ("no engagement yet" in summary) == never
    assert never_engaged > 0
    # Quartiles of the reference population: every grade is used.
    assert {a["fit"] for a in answers} == set("ABCD")
    assert {a["interest"] for a in answers} == {1, 2, 3, 4}


def test_too_green_leads_say_which_axis_holds_them_back(answers: list[dict[str, Any]]) -> None:
    green = [a for a in answers if a["verdict"] == "too_green"]
    summaries = {a["fit_interest_summary"].split(": ")[1] for a in green}
    assert "good fit, not engaged yet" in summaries
    assert "engaged, poor fit" in summaries


# ------------------------------------------------------------------- what the report shows, and the API


@pytest.fixture(scope="module")
def report_data(trained: tuple[LeadDataset, TrainingOutcome]) -> ReportData:
    dataset, outcome = trained
    return assemble_report_data(outcome.bundle, dataset, outcome=outcome)


def test_importance_summary_is_what_the_report_shows(
    trained: tuple[LeadDataset, TrainingOutcome], report_data: ReportData
) -> None:
    summary = trained[1].bundle.card.importances
    assert summary is not None
    contribution = report_data.contribution.set_index("signal")
    permutation = report_data.permutation.set_index("signal")
    assert [s.signal for s in summary.signals] == list(contribution.index)
    for signal in summary.signals:
        row = contribution.loc[signal.signal]
        assert signal.label == row["label"] and "_" not in signal.label
        assert (signal.mean_abs_contribution, signal.ci_low, signal.ci_high) == pytest.approx(
            (row["mean_abs_contribution"], row["ci_low"], row["ci_high"])
        )
        assert signal.auc_drop == pytest.approx(permutation.loc[signal.signal, "auc_drop"])
        report_levels = report_data.win_rates[report_data.win_rates["signal"] == signal.signal]
        assert [w.level for w in signal.win_rates] == list(report_levels["level"])


def test_report_grid_of_fit_and_interest(report_data: ReportData) -> None:
    grid = report_data.fit_interest
    assert grid is not None and len(grid) == 16
    assert grid["n"].sum() == min(len(report_data.test.y), MAX_CONTRIBUTION_ROWS)
    # Each axis is graded by its own quartiles: every fit row and interest column holds about a quarter.
    for column in ("fit", "interest"):
        shares = grid.groupby(column)["share"].sum()
        assert shares.between(0.15, 0.35).all(), shares
    best = grid[(grid["fit"] == "A") & (grid["interest"] == 1)]["win_rate"].iloc[0]
    worst = grid[(grid["fit"] == "D") & (grid["interest"] == 4)]["win_rate"].iloc[0]
    assert best > report_data.test.y.mean() > worst
    html = render_report(report_data)
    section = html.split('<section id="fit_interest">')[1].split("</section>")[0]
    assert "Leads by fit and interest" in section and section.count('class="cell"') == 16
    assert f"{best:.1%}" in section
