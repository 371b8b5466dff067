"""What drives readiness, in business signals: importances, win rates, effects, ripening and a backtest.

Library functions behind the marketing report (``training.report.build``) and notebook 03. They take a fitted
``ReadinessModel`` (or a ``ModelBundle``), a feature frame and labels, and return tidy frames; they log
and plot nothing (``training.report.plots`` draws them).

A *signal* is what ``LeadFeatures.feature_groups_`` maps a feature to: one event type (all its counts,
recency and trend together), one profile field, or a derived group (overall engagement, lead age,
high-intent actions). Grouping matters: the 30-day and 90-day webinar counts share their credit, and
a marketer asks "do webinars matter?", not "does ``webinar_attended_count_30d`` matter?".

- ``permutation_importance_by_signal``: the drop in ROC-AUC when all features of one signal are
  shuffled together across snapshots, repeated ``n_repeats`` times (mean and spread).
- ``contribution_importance_by_signal``: the mean absolute summed TreeSHAP contribution of the
  signal's features (log-odds), with a percentile bootstrap interval over snapshots.
- ``signal_win_rates``: historical win rates with vs without a recent event, per level or per quartile,
  against the overall rate; computed by ``training.model.serving_stats.signal_stats`` (the same numbers the
  API's reasons quote), flattened into one row per level, with a sentence.
- ``partial_dependence``: the average readiness (0-100) when every snapshot gets one value of a feature.
- ``ripening_curves``: average readiness by lead age, for leads later won vs lost.
- ``backtest``: every lead open at a past date, scored as of that date, against what happened next.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from training.bundle import ModelBundle
from training.data.contract import CLOSED_AT, CREATED_AT, LEAD_ID, STATUS, LeadDataset, Outcome
from training.features.snapshots import CUTOFF, SnapshotBatch
from training.features.transformer import ENGAGEMENT_GROUP, HIGH_INTENT_GROUP, LEAD_AGE_GROUP, OTHER_EVENT
from training.model.evaluation import roc_auc
from training.model.readiness import BASE_VALUE, ReadinessModel, explain
from training.model.reasons import humanize, reason_sentence
from training.model.serving_stats import event_type_count_columns, grade_of, signal_stats

#: Words for the derived signals, which have no event type or profile field to name them by.
DERIVED_SIGNAL_LABELS = {
    ENGAGEMENT_GROUP: "Overall engagement (all events)",
    LEAD_AGE_GROUP: "Lead age",
    HIGH_INTENT_GROUP: "High-intent actions (pricing, demo, ...)",
    OTHER_EVENT: "Other, rarer events",
}
#: Representative feature and window of the derived signals for with/without win rates.
_DERIVED_PRESENCE = {ENGAGEMENT_GROUP: ("events_count_30d", 30), HIGH_INTENT_GROUP: ("has_high_intent", None)}

_PRESENCE_NOUNS = {
    HIGH_INTENT_GROUP: "high-intent action",
    ENGAGEMENT_GROUP: "event",
    OTHER_EVENT: "rarer event",
}


# ------------------------------------------------------------------------------------------ naming
def signal_label(signal: str) -> str:
    """The marketing name of a signal: "Webinar attended", "Company size", "Overall engagement ..."."""
    if signal in DERIVED_SIGNAL_LABELS:
        return DERIVED_SIGNAL_LABELS[signal]
    text = humanize(signal)
    return text[:1].upper() + text[1:]


_FEATURE_LABELS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^events_count_(?P<d>\d+)d$"), "Events of any kind in the last {d} days"),
    (re.compile(r"^total_events$"), "Events of any kind so far"),
    (re.compile(r"^distinct_event_types_(?P<d>\d+)d$"), "Different kinds of events in the last {d} days"),
    (re.compile(r"^days_since_last_engagement$"), "Days since the last engagement"),
    (re.compile(r"^lead_age_days$"), "Lead age (days since created)"),
    (re.compile(r"^days_since_first_high_intent$"), "Days since the first high-intent action"),
    (re.compile(r"^has_high_intent$"), "Has shown high intent (0 = no, 1 = yes)"),
    (
        re.compile(r"^engagement_trend_(?P<r>\d+)d_vs_prior_(?P<p>\d+)d$"),
        "Engagement trend (last {r} days vs the {p} before; > 0 rising)",
    ),
    (
        re.compile(r"^.+_trend_(?P<r>\d+)d_vs_prior_(?P<p>\d+)d$"),
        "'{s}' trend (last {r} days vs the {p} before; > 0 rising)",
    ),
    (
        re.compile(r"^engagement_decayed_(?P<h>[0-9.]+)d$"),
        "Recent engagement (events weighted by recency, half-life {h} days)",
    ),
    (
        re.compile(r"^.+_decayed_(?P<h>[0-9.]+)d$"),
        "Recent '{s}' events (weighted by recency, half-life {h} days)",
    ),
    (re.compile(r"^.+_count_(?P<d>\d+)d$"), "'{s}' events in the last {d} days"),
    (re.compile(r"^.+_days_since_last$"), "Days since the last '{s}'"),
]


def feature_label(feature: str, signal: str | None = None) -> str:
    """A readable axis label for one feature, e.g. "Days since the last 'pricing page view'"."""
    for pattern, template in _FEATURE_LABELS:
        match = pattern.match(feature)
        if match:
            return template.format(s=humanize(signal or feature), **match.groupdict())
    return signal_label(feature)


def signal_kinds(feature_groups: dict[str, str], columns: Any = None) -> dict[str, str]:
    """signal -> "event" (an event type), "derived" (engagement, lead age, high intent) or "profile"."""
    names = pd.Index(list(feature_groups) if columns is None else list(columns))
    events = set(event_type_count_columns(names, feature_groups)) | {OTHER_EVENT}
    kinds = {}
    for signal in dict.fromkeys(feature_groups.values()):
        if signal in DERIVED_SIGNAL_LABELS and signal != OTHER_EVENT:
            kinds[signal] = "derived"
        elif signal in events:
            kinds[signal] = "event"
        else:
            kinds[signal] = "profile"
    return kinds


def _group_columns(columns: pd.Index, feature_groups: dict[str, str]) -> dict[str, list[int]]:
    """signal -> positions of its features in ``columns`` (features without a group are their own)."""
    groups: dict[str, list[int]] = {}
    for position, name in enumerate(map(str, columns)):
        groups.setdefault(feature_groups.get(name, name), []).append(position)
    return groups


def _subsample(n: int, max_rows: int | None, rng: np.random.Generator) -> np.ndarray:
    if max_rows is None or n <= max_rows:
        return np.arange(n)
    return np.sort(rng.choice(n, size=max_rows, replace=False))


# ------------------------------------------------------------------------------------- importances
def permutation_importance_by_signal(
    model: ReadinessModel,
    X: pd.DataFrame,
    y: Any,
    feature_groups: dict[str, str],
    *,
    n_repeats: int = 5,
    max_rows: int | None = 4000,
    seed: int = 0,
) -> pd.DataFrame:
    """Drop in ROC-AUC when one signal's features are shuffled together (rows of ``X``, e.g. the test period).

    Uses at most ``max_rows`` snapshots (a random subsample; ``None`` for all). Returns one row per signal
    (``signal``, ``label``, ``kind``, ``n_features``, ``auc_drop`` (mean over repeats), ``auc_drop_std``,
    ``auc_drop_min``, ``auc_drop_max``, ``n_rows``, ``base_auc``), largest drop first.
    """
    if n_repeats < 1:
        raise ValueError(f"n_repeats must be at least 1, got {n_repeats}")
    labels = np.asarray(y).astype(bool)
    if len(labels) != len(X):
        raise ValueError(f"y has {len(labels)} values but X has {len(X)} rows")
    if labels.all() or not labels.any():
        raise ValueError("permutation importance needs won and not-won snapshots in y")
    rng = np.random.default_rng(seed)
    rows = _subsample(len(X), max_rows, rng)
    sample, positive = X.iloc[rows].reset_index(drop=True), labels[rows]
    base = roc_auc(positive, model.raw_score(sample))  # AUC is rank-based: the raw margin suffices
    groups = _group_columns(sample.columns, feature_groups)
    kinds = signal_kinds(feature_groups, sample.columns)
    records = []
    for signal, positions in groups.items():  # a few dozen signals, each scored n_repeats times
        drops = np.empty(n_repeats)
        for repeat in range(n_repeats):
            shuffled = sample.copy()
            order = rng.permutation(len(sample))
            # One permutation for the whole group keeps its features consistent with each other.
            for position in positions:
                shuffled.isetitem(position, sample.iloc[order, position].to_numpy())
            drops[repeat] = base - roc_auc(positive, model.raw_score(shuffled))
        records.append(
            {
                "signal": signal,
                "label": signal_label(signal),
                "kind": kinds.get(signal, "profile"),
                "n_features": len(positions),
                "auc_drop": float(drops.mean()),
                "auc_drop_std": float(drops.std(ddof=1)) if n_repeats > 1 else 0.0,
                "auc_drop_min": float(drops.min()),
                "auc_drop_max": float(drops.max()),
            }
        )
    frame = pd.DataFrame(records).sort_values("auc_drop", ascending=False, kind="stable")
    frame["n_rows"] = len(sample)
    frame["base_auc"] = base
    return frame.reset_index(drop=True)


def contributions_by_signal(contributions: pd.DataFrame, feature_groups: dict[str, str]) -> pd.DataFrame:
    """Per-snapshot contributions summed within each signal (columns: signals; ``base_value`` dropped)."""
    values = contributions.drop(columns=[BASE_VALUE], errors="ignore")
    signals = [feature_groups.get(str(name), str(name)) for name in values.columns]
    return values.T.groupby(np.asarray(signals), sort=False).sum().T


def contribution_importance_by_signal(
    contributions: pd.DataFrame,
    feature_groups: dict[str, str],
    *,
    n_bootstrap: int = 200,
    seed: int = 0,
    ci_level: float = 0.95,
) -> pd.DataFrame:
    """Mean |summed contribution| of each signal's features, with a bootstrap interval over snapshots.

    ``contributions`` is ``ReadinessModel.contributions`` output (log-odds). Returns ``signal``, ``label``,
    ``kind``, ``mean_abs_contribution``, ``ci_low``, ``ci_high``, ``share`` (of the sum over signals),
    ``n_rows``; largest first.
    """
    by_signal = contributions_by_signal(contributions, feature_groups)
    magnitude = np.abs(by_signal.to_numpy(dtype=np.float64))
    n = magnitude.shape[0]
    if n == 0:
        raise ValueError("contribution importance needs at least one snapshot")
    mean = magnitude.mean(axis=0)
    low = high = np.full_like(mean, np.nan)
    if n_bootstrap > 0:
        rng = np.random.default_rng(seed)
        # Resampling counts per snapshot (one bincount per replicate batch, no loop over rows).
        draws = rng.integers(0, n, size=(n_bootstrap, n))
        counts = np.bincount(
            (draws + (np.arange(n_bootstrap) * n)[:, None]).ravel(), minlength=n_bootstrap * n
        )
        replicates = counts.reshape(n_bootstrap, n).astype(np.float64) @ magnitude / n
        tail = (1.0 - ci_level) / 2.0 * 100.0
        low, high = np.percentile(replicates, [tail, 100.0 - tail], axis=0)
    kinds = signal_kinds(feature_groups, contributions.columns.drop(BASE_VALUE, errors="ignore"))
    signals = [str(s) for s in by_signal.columns]
    frame = pd.DataFrame(
        {
            "signal": signals,
            "label": [signal_label(s) for s in signals],
            "kind": [kinds.get(s, "profile") for s in signals],
            "mean_abs_contribution": mean,
            "ci_low": low,
            "ci_high": high,
            "share": mean / mean.sum() if mean.sum() > 0 else np.zeros_like(mean),
        }
    )
    frame["n_rows"] = n
    return frame.sort_values("mean_abs_contribution", ascending=False, kind="stable").reset_index(drop=True)


def strongest_feature_per_signal(
    contributions: pd.DataFrame, feature_groups: dict[str, str]
) -> dict[str, str]:
    """signal -> its feature with the largest mean |contribution| (the one worth plotting an effect for)."""
    values = contributions.drop(columns=[BASE_VALUE], errors="ignore").abs().mean()
    best: dict[str, str] = {}
    for feature in values.sort_values(ascending=False, kind="stable").index:
        best.setdefault(feature_groups.get(str(feature), str(feature)), str(feature))
    return best


# ---------------------------------------------------------------------------------------- win rates
def signal_win_rates(features: pd.DataFrame, y: Any, feature_groups: dict[str, str]) -> pd.DataFrame:
    """Historical win rates per signal, flattened to one row per comparison (see the module docstring).

    Columns: ``signal``, ``label``, ``kind`` (``event_type`` with/without, ``categorical`` per level,
    ``numeric`` per quartile), ``level`` (e.g. "with a 'demo request' in the last 30 days", "referral",
    "56 to 133"), ``short_level`` (``with`` / ``without`` for event types, else the level), ``n``,
    ``win_rate``, ``overall_win_rate``, ``lift`` (win rate / overall) and ``sentence``.
    """
    labels = np.asarray(y, dtype=np.float64)
    if len(labels) != len(features):
        raise ValueError(f"y has {len(labels)} values but features has {len(features)} rows")
    features = features.reset_index(drop=True)
    windows: dict[str, tuple[str, Any]] = dict(event_type_count_columns(features.columns, feature_groups))
    for signal, (column, window) in _DERIVED_PRESENCE.items():
        if column in features.columns and feature_groups.get(column) == signal:
            windows[signal] = (column, window)
    # Derived groups are summarised by one representative feature (engagement would otherwise be read
    # as one-hot indicator columns); lead age keeps its own single column and gets quartiles.
    groups = {
        feature: signal
        for feature, signal in feature_groups.items()
        if signal not in _DERIVED_PRESENCE or feature == _DERIVED_PRESENCE[signal][0]
    }
    stats = signal_stats(features, labels, groups, windows)
    rows: list[dict[str, Any]] = []
    for signal, entry in stats.items():
        rows.extend(_rows_of(signal, entry, len(labels)))
    columns = ["signal", "label", "kind", "level", "short_level", "n", "win_rate", "overall_win_rate", "lift"]
    columns.append("sentence")
    return pd.DataFrame(rows, columns=columns)


def _rows_of(signal: str, entry: dict[str, Any], n_total: int) -> list[dict[str, Any]]:
    label, kind, overall = signal_label(signal), entry["kind"], entry["overall_win_rate"]
    base = {"signal": signal, "label": label, "kind": kind, "overall_win_rate": overall}
    rows: list[dict[str, Any]] = []
    if kind == "event_type":
        window = entry.get("window_days")
        recently = f"in the last {window} days" if window else "so far"
        name = humanize(signal)
        noun = _PRESENCE_NOUNS.get(signal, f"{'an' if name[:1] in 'aeiou' else 'a'} '{name}'")
        n_with = int(entry["n_with"])
        for level, rate, n in (
            (f"with {noun} {recently}", entry["win_rate_with"], n_with),
            (f"without {noun} {recently}", entry["win_rate_without"], n_total - n_with),
        ):
            rows.append(
                {**base, "level": level, "short_level": level.split(" ")[0], "n": n, "win_rate": rate}
            )
        return _finish(rows, overall)
    if kind == "categorical":
        for level, values in entry.get("levels", {}).items():
            rows.append(
                {
                    **base,
                    "level": str(level),
                    "short_level": str(level),
                    "n": values["n"],
                    "win_rate": values["win_rate"],
                }
            )
        return _finish(rows, overall)
    for band in entry.get("bins", []):
        level = f"{_short_number(band['lower'])} to {_short_number(band['upper'])}"
        rows.append(
            {**base, "level": level, "short_level": level, "n": band["n"], "win_rate": band["win_rate"]}
        )
    return _finish(rows, overall)


def _finish(rows: list[dict[str, Any]], overall: float) -> list[dict[str, Any]]:
    for row in rows:
        rate = row["win_rate"]
        row["lift"] = rate / overall if rate is not None and overall else math.nan
        if rate is None:
            row["win_rate"] = math.nan
            row["sentence"] = f"{row['label']}, {row['level']}: no such leads"
            continue
        subject = (
            f"Leads {row['level']}" if row["kind"] == "event_type" else f"{row['label']} = {row['level']}"
        )
        row["sentence"] = f"{subject}: {rate:.0%} won vs {overall:.0%} overall"
    return rows


def _short_number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == round(value) else f"{value:.2g}"


# ------------------------------------------------------------------------------------------ effects
def partial_dependence(
    model: ReadinessModel,
    X: pd.DataFrame,
    feature: str,
    *,
    grid_size: int = 20,
    max_rows: int | None = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Average readiness (0-100) when every sampled snapshot gets the same value of ``feature``.

    Numeric features: up to ``grid_size`` values between the 2nd and 98th percentile of the known
    values, plus (if the feature is ever missing, e.g. "never had one") a row with ``missing=True``.
    Categorical features: one row per level. Columns ``value``, ``missing``, ``mean_score``, ``share``
    (share of the snapshots with that value or bin: how typical the value is).
    """
    if feature not in X.columns:
        raise ValueError(
            f"partial_dependence: {feature!r} is not a feature; features: {list(X.columns)[:10]}..."
        )
    rng = np.random.default_rng(seed)
    sample = X.iloc[_subsample(len(X), max_rows, rng)].reset_index(drop=True)
    column = X[feature]
    categorical = isinstance(column.dtype, pd.CategoricalDtype)
    if categorical:
        counts = column.value_counts(normalize=True)
        values: list[Any] = [level for level in column.cat.categories if counts.get(level, 0) > 0]
        shares = [float(counts[level]) for level in values]
        missing_flags = [False] * len(values)
    else:
        known = column.to_numpy(dtype=np.float64, na_value=np.nan)
        known = known[~np.isnan(known)]
        if known.size == 0:
            values, shares, missing_flags = [], [], []
        else:
            distinct = np.unique(known)
            grid = (
                distinct
                if distinct.size <= grid_size
                else np.unique(np.quantile(known, np.linspace(0.02, 0.98, grid_size)))
            )
            values = [float(v) for v in grid]
            edges = np.r_[-np.inf, (grid[1:] + grid[:-1]) / 2, np.inf]
            shares = list(np.histogram(known, edges)[0] / len(column))
            missing_flags = [False] * len(values)
        missing_share = float(column.isna().mean())
        if missing_share > 0:
            values.append(np.nan)
            shares.append(missing_share)
            missing_flags.append(True)
    if not values:
        return pd.DataFrame(columns=["value", "missing", "mean_score", "share"])
    # All grid points in one frame, one prediction call: len(values) copies of the sample.
    stacked = pd.concat([sample] * len(values), ignore_index=True)
    repeated = np.repeat(np.arange(len(values)), len(sample))
    if categorical:
        levels = pd.Series(np.asarray(values, dtype=object)[repeated])
        stacked[feature] = levels.astype(column.dtype).to_numpy()
    else:
        stacked[feature] = np.asarray(values, dtype=np.float64)[repeated]
    readiness = model.readiness(stacked)
    means = np.bincount(repeated, readiness, minlength=len(values)) / len(sample) * 100.0
    return pd.DataFrame({"value": values, "missing": missing_flags, "mean_score": means, "share": shares})


# ----------------------------------------------------------------------------------------- ripening
def ripening_curves(
    snapshots: pd.DataFrame,
    readiness: Any,
    outcomes: pd.DataFrame,
    *,
    bin_days: int = 7,
    max_age_days: int | None = None,
    min_leads: int = 20,
) -> pd.DataFrame:
    """Average readiness (0-100) by lead age, for leads that were later won vs lost.

    ``snapshots`` (``lead_id``, ``cutoff``, ``created_at``) align with ``readiness``; ``outcomes`` is the
    dataset's outcomes table (open leads are left out). Ages are binned by ``bin_days``; bins with fewer
    than ``min_leads`` snapshots are dropped. Columns: ``outcome`` (won/lost), ``age_days`` (bin start),
    ``mean_score``, ``p25_score``, ``p75_score``, ``n``.
    """
    columns = ["outcome", "age_days", "mean_score", "p25_score", "p75_score", "n"]
    score = np.asarray(readiness, dtype=np.float64) * 100.0
    if len(score) != len(snapshots):
        raise ValueError(f"readiness has {len(score)} values but snapshots has {len(snapshots)} rows")
    if CUTOFF not in snapshots or CREATED_AT not in snapshots or snapshots[CUTOFF].isna().all():
        return pd.DataFrame(columns=columns)
    status = outcomes.set_index(LEAD_ID)[STATUS].astype(str)
    final = snapshots[LEAD_ID].map(status).to_numpy()
    age = (snapshots[CUTOFF] - snapshots[CREATED_AT]).dt.total_seconds().to_numpy() / 86_400.0
    frame = pd.DataFrame({"outcome": final, "age_days": np.floor(age / bin_days) * bin_days, "score": score})
    frame = frame[frame["outcome"].isin([str(Outcome.WON), str(Outcome.LOST)]) & np.isfinite(age)]
    if max_age_days is not None:
        frame = frame[frame["age_days"] <= max_age_days]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    grouped = frame.groupby(["outcome", "age_days"], sort=True)["score"]
    table = grouped.agg(mean_score="mean", n="size").reset_index()
    table["p25_score"] = grouped.quantile(0.25).to_numpy()
    table["p75_score"] = grouped.quantile(0.75).to_numpy()
    return table[table["n"] >= min_leads][columns].reset_index(drop=True)


# ----------------------------------------------------------------------------------------- backtest
def card_threshold(bundle: ModelBundle) -> float:
    """The hand-over threshold in the bundle's card: ``value`` (as ``training.scoring`` reads it), else
    ``threshold`` (the key of ``ThresholdDecision.to_dict``, all that cards written before had)."""
    section = bundle.card.threshold
    value = section.get("value", section.get("threshold"))
    if value is None:
        raise ValueError(f"model card of {bundle.card.name!r} has no hand-over threshold: {section}")
    return float(value)


@dataclass
class Backtest:
    """Leads open at ``as_of``, scored as of that date, and what happened to them within the horizon."""

    as_of: pd.Timestamp
    horizon_days: int
    threshold: float
    #: one row per lead: lead_id, readiness, score, handover, grade, what_happened (won/lost/still open)
    leads: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def by_group(self, column: str) -> pd.DataFrame:
        """Counts and win rate per value of ``column`` (``handover`` or ``grade``)."""
        frame = self.leads
        table = pd.crosstab(frame[column], frame["what_happened"]).reindex(
            columns=["won", "lost", "still open"], fill_value=0
        )
        table["leads"] = table.sum(axis=1)
        table["win_rate"] = table["won"] / table["leads"]
        return table.reset_index()

    @property
    def overall_win_rate(self) -> float:
        return float((self.leads["what_happened"] == "won").mean()) if len(self.leads) else math.nan


def default_backtest_date(dataset: LeadDataset, horizon_days: int, not_before: Any = None) -> pd.Timestamp:
    """The latest date whose whole horizon has been observed, but not before ``not_before`` (e.g. the
    test period's start, so that the model never saw what happened after it)."""
    until = dataset.metadata.observed_until
    if until is None:
        until = pd.concat([dataset.outcomes[CLOSED_AT].dropna(), dataset.leads[CREATED_AT].dropna()]).max()
    as_of = pd.Timestamp(until) - pd.Timedelta(days=horizon_days)
    if not_before is not None and as_of < pd.Timestamp(not_before):
        as_of = pd.Timestamp(not_before)
    return as_of


def backtest(
    bundle: ModelBundle, dataset: LeadDataset, as_of: Any = None, *, horizon_days: int | None = None
) -> Backtest:
    """Score every lead open at ``as_of`` (created before, not closed by then) as of that date, and look
    up what happened to it within the horizon: won, lost, or still open.

    ``as_of`` defaults to ``default_backtest_date`` (not before the model's test period).
    """
    horizon = int(horizon_days or bundle.card.horizon_days)
    split = bundle.card.split
    not_before = split.get("test_start") if split.get("kind") == "time" else None
    when = pd.Timestamp(as_of) if as_of is not None else default_backtest_date(dataset, horizon, not_before)
    if when.tzinfo is None:
        when = when.tz_localize("UTC")
    notes: list[str] = []
    leads = dataset.leads
    outcomes = dataset.outcomes.set_index(LEAD_ID).reindex(leads[LEAD_ID].to_numpy())
    closed = pd.to_datetime(outcomes[CLOSED_AT], utc=True) if CLOSED_AT in outcomes else None
    open_then = np.array(leads[CREATED_AT] < when, dtype=bool)
    if closed is not None:
        open_then &= ~(closed <= when).to_numpy()
    chosen = leads.loc[open_then].reset_index(drop=True)
    if chosen.empty:
        raise ValueError(f"backtest: no lead was open at {when} (created before it and not yet closed)")
    snapshots = chosen.copy()
    snapshots.insert(1, CUTOFF, when)
    features = bundle.pipeline[0]
    batch = SnapshotBatch(
        snapshots,
        dataset.events,
        tuple(getattr(features, "categorical_columns_", dataset.metadata.categorical_columns)),
        tuple(getattr(features, "numeric_columns_", dataset.metadata.numeric_columns)),
    )
    readiness = bundle.pipeline[-1].readiness(bundle.pipeline[:-1].transform(batch))
    threshold = card_threshold(bundle)
    end = when + pd.Timedelta(days=horizon)
    status = outcomes.loc[open_then, STATUS].astype(str).to_numpy()
    closed_in = (
        ((closed > when) & (closed <= end)).to_numpy()[open_then]
        if closed is not None
        else np.zeros(len(chosen), dtype=bool)
    )
    happened = np.where(
        closed_in & (status == "won"), "won", np.where(closed_in & (status == "lost"), "lost", "still open")
    )
    until = dataset.metadata.observed_until
    if until is not None and end > until:
        notes.append(
            f"the horizon ends {end.date()}, after the data ends ({pd.Timestamp(until).date()}): "
            "some 'still open' leads may yet have been won in time"
        )
    grades = bundle.card.serving.get("grades")
    frame = pd.DataFrame(
        {
            LEAD_ID: chosen[LEAD_ID].to_numpy(),
            "readiness": readiness,
            "score": np.round(readiness * 100.0, 1),
            "handover": readiness >= threshold,
            "grade": grade_of(readiness, grades) if grades else "",
            "what_happened": happened,
        }
    )
    return Backtest(as_of=when, horizon_days=horizon, threshold=threshold, leads=frame, notes=notes)


# ----------------------------------------------------------------------------------- explanations
def explain_snapshots(bundle: ModelBundle, batch: SnapshotBatch, *, top: int = 3) -> pd.DataFrame:
    """Readiness and the ``top`` signals pushing each snapshot's score up or down, as sentences.

    One row per snapshot and reason: ``lead_id``, ``score`` (0-100), ``signal``, ``contribution``
    (summed log-odds of the signal's features), ``direction`` and ``sentence`` (from
    ``training.model.reasons``, quoting the model card's historical win rates when it has them).
    """
    readiness, _, contributions = explain(bundle.pipeline, batch)
    features = bundle.pipeline[:-1].transform(batch)
    groups = bundle.card.feature_groups
    by_signal = contributions_by_signal(contributions, groups)
    strongest = contributions.drop(columns=[BASE_VALUE]).abs()
    stats = bundle.card.serving.get("signals", {})
    rows = []
    pushes = by_signal.to_numpy(dtype=np.float64)
    magnitudes = np.abs(pushes)
    order = np.argsort(-magnitudes, axis=1, kind="stable")[:, :top]
    for i in range(len(batch)):  # a handful of leads to explain: presentation, not a hot path
        for j in order[i]:
            signal = str(by_signal.columns[j])
            members = [f for f in strongest.columns if groups.get(f, f) == signal]
            feature = str(strongest.loc[strongest.index[i], members].idxmax())
            raw: Any = features[feature].iloc[i]
            value = str(raw) if isinstance(raw, str) else None if pd.isna(raw) else float(raw)
            contribution = float(pushes[i, j])
            rows.append(
                {
                    LEAD_ID: batch.snapshots[LEAD_ID].iloc[i],
                    "score": round(float(readiness[i]) * 100, 1),
                    "signal": signal_label(signal),
                    "contribution": contribution,
                    "direction": "raises" if contribution > 0 else "lowers",
                    "sentence": reason_sentence(feature, value, signal, stats.get(signal)),
                }
            )
    return pd.DataFrame(rows)
