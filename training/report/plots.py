"""The report's figures, titled and labelled in marketing's words, and their embedding as PNG data URIs.

Built with matplotlib's object-oriented API (``Figure``, never pyplot), like ``training.model.plots``, whose
ROC, calibration and lift figures the report reuses. Notebooks can display any of these figures directly.
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from training.report.backtest import Backtest
from training.report.data import Effect

WON_COLOUR, LOST_COLOUR, THRESHOLD_COLOUR = "tab:green", "tab:red", "tab:purple"
#: What each scorer is called in the report.
SCORER_NAMES = {
    "model": "leadripe model",
    "logistic_baseline": "simple statistical baseline",
    "points_baseline": "points score (points per event type)",
}


def scorer_name(name: str) -> str:
    """The report's name of a scorer (``model``, ``logistic_baseline``, ...)."""
    return SCORER_NAMES.get(name, name.replace("_", " "))


def figure_to_data_uri(figure: Figure, dpi: int = 100) -> str:
    """The figure as a ``data:image/png;base64,...`` URI, so the HTML needs no other file."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def importance_figure(permutation: pd.DataFrame, contribution: pd.DataFrame, top: int = 12) -> Figure:
    """Two panels over the same signals: mean |contribution| (bootstrap 95% interval) and the ROC-AUC drop
    when the signal is shuffled (mean ± one standard deviation over reshuffles)."""
    order = list(contribution["signal"][:top])[::-1]  # largest at the top
    labels = contribution.set_index("signal").loc[order, "label"]
    fig = Figure(figsize=(11.0, 1.2 + 0.42 * len(order)), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(order))
    c = contribution.set_index("signal").loc[order]
    errors = np.vstack([c["mean_abs_contribution"] - c["ci_low"], c["ci_high"] - c["mean_abs_contribution"]])
    left.barh(y, c["mean_abs_contribution"], xerr=np.nan_to_num(errors), color="tab:blue", capsize=3)
    left.set(
        yticks=y,
        yticklabels=labels,
        title="How much each signal moves a lead's score",
        xlabel="Average push on the score (log-odds; bars: 95% interval)",
    )
    p = permutation.set_index("signal").reindex(order)
    right.barh(y, p["auc_drop"], xerr=p["auc_drop_std"].fillna(0.0), color="tab:orange", capsize=3)
    right.axvline(0.0, color="grey", linewidth=1)
    right.set(
        title="How much ranking quality is lost without it",
        xlabel="Drop in ROC-AUC when the signal is shuffled (bars: ± 1 std)",
    )
    for ax in (left, right):
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("What drives readiness: importance by business signal", fontsize=13)
    return fig


def win_rate_figure(win_rates: pd.DataFrame, signals: list[str], columns: int = 3) -> Figure:
    """Small multiples: for each signal, the win rate per level (or with/without) against the overall rate."""
    shown = [s for s in signals if (win_rates["signal"] == s).any()]
    rows = max(1, math.ceil(len(shown) / columns))
    fig = Figure(figsize=(4.2 * columns, 3.3 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax, signal in zip(axes, shown, strict=False):
        part = win_rates[win_rates["signal"] == signal]
        overall = float(part["overall_win_rate"].iloc[0])
        levels = [_shorten(str(level)) for level in part["short_level"]][::-1]
        rates = part["win_rate"].to_numpy(dtype=float)[::-1] * 100.0
        colours = ["tab:green" if r >= overall * 100.0 else "tab:grey" for r in rates]
        ax.barh(np.arange(len(levels)), np.nan_to_num(rates), color=colours)
        ax.axvline(
            overall * 100.0, color="black", linestyle="--", linewidth=1, label=f"overall {overall:.0%}"
        )
        for i, rate in enumerate(rates):
            if np.isfinite(rate):
                ax.annotate(f"{rate:.0f}%", (rate, i), xytext=(3, 0), textcoords="offset points", va="center")
        ax.set(
            yticks=np.arange(len(levels)),
            yticklabels=levels,
            title=str(part["label"].iloc[0]) + _window_of(str(part["level"].iloc[0])),
            xlabel="Won within the horizon (%)",
        )
        ax.set_xlim(0, max(float(np.nanmax(rates)) if len(rates) else 0.0, overall * 100.0) * 1.25 + 1)
        ax.legend(loc="lower right", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    fig.suptitle("Historical win rates of the strongest signals, against the overall rate", fontsize=13)
    return fig


def _window_of(level: str) -> str:
    """ " (last 30 days)" from a with/without level such as "with a 'demo request' in the last 30 days"."""
    marker = " in the last "
    return f" ({level.split(marker, 1)[1]})" if level.startswith("with") and marker in level else ""


def _shorten(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def effects_figure(effects: list[Effect], columns: int = 2) -> Figure:
    """Partial dependence of the strongest signals: the average score if every lead had that value."""
    rows = max(1, math.ceil(len(effects) / columns))
    fig = Figure(figsize=(6.0 * columns, 3.8 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax, effect in zip(axes, effects, strict=False):
        curve = effect.curve
        known = curve[~curve["missing"].astype(bool)]
        if effect.categorical:
            ax.bar([_shorten(str(v), 14) for v in known["value"]], known["mean_score"], color="tab:blue")
            ax.tick_params(axis="x", labelrotation=30)
        else:
            values = known["value"].astype(float)
            ax.plot(values, known["mean_score"], marker="o", color="tab:blue")
            if len(values) and values.min() > 0 and values.max() / values.min() > 100:
                ax.set_xscale("log")  # heavy-tailed sizes (employees, revenue) read better on a log axis
            never = curve[curve["missing"].astype(bool)]
            if len(never):
                ax.axhline(
                    float(never["mean_score"].iloc[0]),
                    color="tab:grey",
                    linestyle="--",
                    label=f"never / unknown ({float(never['share'].iloc[0]):.0%} of leads)",
                )
                ax.legend(fontsize=8)
        ax.set(title=effect.label, xlabel=effect.feature_label, ylabel="Average readiness score (0-100)")
        ax.grid(alpha=0.3)
    for ax in axes[len(effects) :]:
        ax.set_visible(False)
    fig.suptitle("How the strongest signals act (all else as observed)", fontsize=13)
    return fig


def ripening_figure(ripening: pd.DataFrame, threshold: float, horizon_days: int) -> Figure:
    """Average score by lead age for leads later won vs lost (interquartile band), with the threshold."""
    fig = Figure(figsize=(9.0, 4.8), layout="constrained")
    ax = fig.add_subplot()
    for outcome, colour, name in (("won", WON_COLOUR, "later won"), ("lost", LOST_COLOUR, "later lost")):
        part = ripening[ripening["outcome"] == outcome]
        if part.empty:
            continue
        ax.plot(part["age_days"], part["mean_score"], color=colour, linewidth=2, label=f"{name} (average)")
        ax.fill_between(
            part["age_days"].astype(float),
            part["p25_score"].astype(float),
            part["p75_score"].astype(float),
            color=colour,
            alpha=0.15,
            label=f"{name} (middle half of leads)",
        )
    ax.axhline(
        threshold * 100.0,
        color=THRESHOLD_COLOUR,
        linestyle="--",
        label=f"hand-over threshold ({threshold * 100:.0f})",
    )
    ax.set(
        title="Ripening: readiness by lead age, for leads later won vs lost",
        xlabel="Lead age (days since the lead was created)",
        ylabel=f"Readiness score (0-100: chance of a win within {horizon_days} days)",
    )
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    return fig


def backtest_figure(result: Backtest) -> Figure:
    """Win rate within the horizon per grade of the leads scored at the backtest date."""
    table = result.by_group("grade") if result.leads["grade"].astype(str).str.len().gt(0).all() else None
    if table is None:
        table = result.by_group("handover")
        table["grade"] = table["handover"].map({True: "handed over", False: "kept in nurture"})
    names = {"A": "A (ripe: hand over)", "B": "B", "C": "C", "D": "D"}
    labels = [names.get(str(g), str(g)) for g in table["grade"]]
    fig = Figure(figsize=(8.0, 4.5), layout="constrained")
    ax = fig.add_subplot()
    rates = table["win_rate"].to_numpy(dtype=float) * 100.0
    ax.bar(labels, rates, color=["tab:green", "tab:olive", "tab:orange", "tab:red"][: len(labels)])
    for i, (rate, n) in enumerate(zip(rates, table["leads"], strict=True)):
        ax.annotate(
            f"{rate:.0f}% of {n:,}", (i, rate), xytext=(0, 3), textcoords="offset points", ha="center"
        )
    ax.axhline(
        result.overall_win_rate * 100.0, color="black", linestyle="--", linewidth=1, label="all open leads"
    )
    ax.set(
        title=f"Backtest: leads open on {result.as_of.date()}, won within {result.horizon_days} days",
        xlabel="Grade the model gave the lead on that date",
        ylabel="Won within the horizon (%)",
    )
    ax.set_ylim(0, max(float(np.nanmax(rates)) if len(rates) else 0.0, 1.0) * 1.2)
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    return fig
