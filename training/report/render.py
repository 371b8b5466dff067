"""``ReportData`` -> one self-contained HTML page (Jinja2 template, plots embedded as PNG data URIs).

The wording is for marketing: signals by their business names, rates as percentages, every figure
titled, and each section in a ``<section id=...>`` (ids in ``SECTION_IDS``) so tests and links find it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from training.features.targets import TARGET_PHRASE, describe_target
from training.model.evaluation import EvaluationResult
from training.model.plots import calibration_figure, lift_figure, roc_figure
from training.report.data import MODEL, ReportData
from training.report.fit_interest import fit_interest_context
from training.report.plots import (
    backtest_figure,
    effects_figure,
    figure_to_data_uri,
    importance_figure,
    ripening_figure,
    scorer_name,
    win_rate_figure,
)

TEMPLATE = "report.html.j2"
#: Sections of the report, in order: (id, heading).
SECTIONS = (
    ("summary", "Summary"),
    ("importances", "What drives readiness"),
    ("signals", "Win rates per signal"),
    ("effects", "How the strongest signals act"),
    ("fit_interest", "Leads by fit and interest"),
    ("ripening", "Ripening curves"),
    ("quality", "How good the model is"),
    ("backtest", "Backtest"),
    ("leakage", "Leakage audit"),
    ("method", "How this report was made"),
)
SECTION_IDS = tuple(section_id for section_id, _ in SECTIONS)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("training.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = _pct
    env.filters["num"] = _num
    return env


def _pct(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{float(value) * 100:.{digits}f}%"


def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{float(value):,.{digits}f}"


def render_report(data: ReportData) -> str:
    """Render the report page for ``data``."""
    return _environment().get_template(TEMPLATE).render(**report_context(data))


def report_context(data: ReportData) -> dict[str, Any]:
    """Everything the template shows, as plain values, text and data-URI images."""
    card, test = data.card, data.test
    model = test.evaluations[MODEL]
    scores = {scorer_name(name): proba for name, proba in test.scores.items()}
    split = card.split
    kind = card.target
    return {
        "sections": SECTIONS,
        "target_kind": kind,
        "target": describe_target(kind, data.horizon_days),
        "reached": TARGET_PHRASE[kind],
        "title": f"What drives lead readiness: {card.name}" + (f" v{card.version}" if card.version else ""),
        "card": card,
        "data": data,
        "test_window": (
            f"{_date(split.test_start)} to {_date(split.test_end)}" if split is not None else "unknown"
        ),
        "n_test": len(test.y),
        "base_rate": model.base_rate,
        "headlines": _headlines(data),
        "importance_img": figure_to_data_uri(importance_figure(data.permutation, data.contribution)),
        "importance_rows": _importance_rows(data),
        "signals_img": figure_to_data_uri(win_rate_figure(data.win_rates, data.top_signals)),
        "signal_rows": _signal_rows(data),
        "effects_img": figure_to_data_uri(effects_figure(data.effects)) if data.effects else None,
        "effects": [
            {"label": e.label, "feature_label": e.feature_label, "summary": _effect_summary(e.curve)}
            for e in data.effects
        ],
        "ripening_img": (
            figure_to_data_uri(ripening_figure(data.ripening, data.threshold, data.horizon_days))
            if not data.ripening.empty
            else None
        ),
        "ripening_text": _ripening_text(data),
        **fit_interest_context(data.fit_interest, data.test.evaluations[MODEL].base_rate),
        # The model first, then the baselines.
        "quality_rows": [
            _quality_row(name, test.evaluations[name])
            for name in sorted(test.evaluations, key=lambda name: name != MODEL)
        ],
        "oracle_ratio": model.roc_auc / data.oracle_auc if data.oracle_auc else None,
        "roc_img": figure_to_data_uri(roc_figure(test.y, scores, title="ROC curves on the test period")),
        "calibration_img": figure_to_data_uri(
            calibration_figure(
                test.y,
                test.scores[MODEL],
                name=scorer_name(MODEL),
                title="Calibration: predicted readiness vs what happened",
            )
        ),
        "lift_img": figure_to_data_uri(
            lift_figure(test.y, scores, title="Lift by score decile: win rate vs the average lead")
        ),
        "backtest_img": figure_to_data_uri(backtest_figure(data.backtest)) if data.backtest else None,
        "backtest_rows": _backtest_rows(data),
    }


def _date(value: Any) -> str:
    if value is None:
        return "?"
    try:
        return str(pd.Timestamp(value).date())
    except (TypeError, ValueError):
        return str(value)


def _headlines(data: ReportData) -> list[str]:
    test = data.test
    model = test.evaluations[MODEL]
    at = model.at_threshold
    lines = [
        f"Of two leads, one won within {data.horizon_days} days and one not, the model scores the won one "
        f"higher {_pct(model.roc_auc)} of the time (ROC-AUC {_num(model.roc_auc)}"
        + "".join(
            f"; {scorer_name(name)}: {_num(result.roc_auc)}"
            for name, result in test.evaluations.items()
            if name != MODEL
        )
        + ").",
        f"Handing over every lead scoring at least {data.threshold * 100:.0f} of 100 would have passed "
        f"{_pct(at.handover_rate, 1)} of the open leads to sales (counted weekly); "
        f"{_pct(at.acceptance_rate)} of those were won within {data.horizon_days} days, "
        f"against {_pct(model.base_rate)} of all leads.",
    ]
    top = data.contribution.head(3)["label"].tolist()
    if top:
        lines.append("The strongest signals: " + ", ".join(top) + ".")
    best = data.win_rates[data.win_rates["signal"].isin(data.top_signals)].sort_values(
        "lift", ascending=False
    )
    if len(best):
        lines.append(f"For example: {best['sentence'].iloc[0]}.")
    return lines


def _importance_rows(data: ReportData) -> list[dict[str, Any]]:
    drops: dict[Any, Any] = data.permutation.set_index("signal").to_dict("index")
    kinds = {"event": "event type", "profile": "lead profile", "derived": "engagement summary"}
    rows = []
    for row in data.contribution.to_dict("records"):  # a few dozen signals
        drop = drops.get(row["signal"])
        rows.append(
            {
                "label": row["label"],
                "kind": kinds.get(str(row["kind"]), str(row["kind"])),
                "contribution": (
                    f"{row['mean_abs_contribution']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"
                ),
                "share": _pct(row["share"], 1),
                "auc_drop": "n/a" if drop is None else f"{drop['auc_drop']:.4f} ± {drop['auc_drop_std']:.4f}",
            }
        )
    return rows


def _signal_rows(data: ReportData) -> list[dict[str, Any]]:
    table = data.win_rates[data.win_rates["signal"].isin(data.top_signals)]
    order = {signal: i for i, signal in enumerate(data.top_signals)}
    table = table.assign(_order=table["signal"].map(order)).sort_values("_order", kind="stable")
    rows = []
    for row in table.to_dict("records"):
        n, lift = row["n"], float(row["lift"])
        rows.append(
            {
                "label": row["label"],
                "level": row["level"],
                "n": f"{int(n):,}" if n is not None and math.isfinite(float(n)) else "",
                "win_rate": _pct(row["win_rate"], 1),
                "overall": _pct(row["overall_win_rate"], 1),
                "lift": "n/a" if not math.isfinite(lift) else f"{lift:.1f}x",
                "up": bool(math.isfinite(lift) and lift >= 1.0),
            }
        )
    return rows


def _effect_summary(curve: pd.DataFrame) -> str:
    known = curve[~curve["missing"].astype(bool)]
    if known.empty:
        return ""
    means = known["mean_score"].to_numpy(dtype=float)
    values = known["value"].tolist()
    low, high = int(np.argmin(means)), int(np.argmax(means))
    text = (
        f"average score from {means[low]:.1f} (at {_value(values[low])}) "
        f"to {means[high]:.1f} (at {_value(values[high])})"
    )
    never = curve[curve["missing"].astype(bool)]
    if len(never):
        text += f"; {never['mean_score'].iloc[0]:.1f} for leads that never had one"
    return text


def _value(value: Any) -> str:
    if isinstance(value, float | int | np.floating):
        return f"{float(value):,.0f}" if abs(float(value)) >= 10 else f"{float(value):.1f}"
    return str(value)


def _ripening_text(data: ReportData) -> str:
    curves = data.ripening
    if curves.empty:
        return ""
    threshold = data.threshold * 100.0
    won, lost = curves[curves["outcome"] == "won"], curves[curves["outcome"] == "lost"]
    parts = []
    crossing = won[won["mean_score"] >= threshold]
    if len(crossing):
        parts.append(
            f"Leads that were later won reach the hand-over threshold ({threshold:.0f}) on average from "
            f"an age of about {crossing['age_days'].iloc[0]:.0f} days"
        )
    else:
        parts.append(
            "On average, even leads that were later won stay below the hand-over threshold "
            f"({threshold:.0f}): their readiness rises only shortly before the deal"
        )
    if len(lost):
        parts.append(f"leads that were later lost average {lost['mean_score'].mean():.1f} at any age")
    return "; ".join(parts) + "."


def _quality_row(name: str, result: EvaluationResult) -> dict[str, Any]:
    at = result.at_threshold
    low, high = result.roc_auc_ci
    return {
        "key": name,
        "name": scorer_name(name),
        "roc_auc": _num(result.roc_auc),
        "roc_ci": f"[{_num(low)}, {_num(high)}]",
        "pr_auc": _num(result.pr_auc),
        "lift": f"{result.lift_top_decile:.1f}x" if math.isfinite(result.lift_top_decile) else "n/a",
        "handover_rate": _pct(at.handover_rate, 1),
        "acceptance_rate": _pct(at.acceptance_rate, 1),
        "accepted": f"{at.tp:,} of {at.handed_over:,}",
        "won_coverage": _pct(at.won_coverage, 1),
        "brier": _num(result.brier, 4),
    }


def _backtest_rows(data: ReportData) -> list[dict[str, Any]]:
    if data.backtest is None:
        return []
    table = data.backtest.by_group("handover").sort_values("handover", ascending=False)
    return [
        {
            "group": "handed over (ripe)" if row["handover"] else "kept in nurture",
            "leads": f"{int(row['leads']):,}",
            "won": f"{int(row['won']):,}",
            "lost": f"{int(row['lost']):,}",
            "open": f"{int(row['still open']):,}",
            "win_rate": _pct(row["win_rate"], 1),
        }
        for _, row in table.iterrows()
    ]
