"""Baselines the readiness model must beat.

``LogisticBaseline``: a linear model on the very same feature frame. ``PointsScoreBaseline``: the
points-with-decay lead score of marketing-automation tools, computed straight from the events; it does
not use the learned features at all, which is what makes it an honest "what you have today" baseline.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from training.data.contract import EVENT_TYPE, LEAD_ID, OCCURRED_AT
from training.features.snapshots import SnapshotBatch
from training.model.calibration import fit_platt, platt_probability
from training.model.value_bounds import WildValueClipper

CUTOFF = "cutoff"
_MISSING_CATEGORY = "__missing__"


def _categories_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    # One-hot encoding wants plain values; a missing category becomes a category of its own.
    return frame.astype(object).where(frame.notna(), _MISSING_CATEGORY)


class LogisticBaseline(ClassifierMixin, BaseEstimator):
    """Logistic regression on the feature frame: impute, one-hot the categories, scale the numerics.

    Numeric NaNs are imputed with the median plus a missing-indicator column, and wild values clipped
    (``training.model.value_bounds``); categories with fewer than ``min_frequency`` training rows share
    one infrequent level; unknown categories are ignored.
    """

    def __init__(self, C: float = 1.0, max_iter: int = 2000, min_frequency: int = 10) -> None:
        self.C = C
        self.max_iter = max_iter
        self.min_frequency = min_frequency

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags

    def fit(self, X: pd.DataFrame, y: Any) -> LogisticBaseline:
        """Fit preprocessing and the logistic regression; returns ``self``."""
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"LogisticBaseline.fit expects a pandas DataFrame, got {type(X).__name__}")
        # Wild values are clipped before scaling: one typo (1e12 employees) would otherwise shrink every
        # ordinary value of its column to the same standardised number (value_bounds.py). A column
        # without any value imputes to 0 rather than warning and vanishing.
        numeric = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            WildValueClipper(),
            StandardScaler(),
        )
        categorical = make_pipeline(
            FunctionTransformer(_categories_as_text, feature_names_out="one-to-one"),
            OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=self.min_frequency),
        )
        preprocess = ColumnTransformer(
            [
                ("numeric", numeric, make_column_selector(dtype_include="number")),
                ("categorical", categorical, make_column_selector(dtype_include="category")),
            ],
            remainder="drop",
        )
        self.pipeline_ = Pipeline(
            [("preprocess", preprocess), ("logistic", LogisticRegression(C=self.C, max_iter=self.max_iter))]
        )
        self.pipeline_.fit(X, np.asarray(y))
        self.classes_ = self.pipeline_.classes_
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self, "pipeline_")
        return np.asarray(self.pipeline_.predict_proba(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The more probable class."""
        check_is_fitted(self, "pipeline_")
        return np.asarray(self.pipeline_.predict(X))


def _days(values: pd.Series | pd.Index, what: str) -> np.ndarray:
    """Timestamps as float days since the epoch (UTC), whatever their unit or time zone."""
    stamps = pd.to_datetime(values, utc=True)
    if bool(pd.isna(stamps).any()):
        raise ValueError(f"{what} has {int(pd.isna(stamps).sum())} missing timestamps")
    return np.asarray((stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(days=1), dtype=np.float64)


class PointsScoreBaseline(ClassifierMixin, BaseEstimator):
    """Marketing-automation lead score: points per event type, halved every ``half_life_days``.

    ``score = sum over the lead's events before the cutoff of points[event_type] * 0.5 ** (age_days /
    half_life_days)``, where age is measured from the event to the snapshot's cutoff. Event types without
    points score 0.

    Points are given via ``points`` or, when it is ``None``, learned in ``fit`` the way marketers set them:
    ``round(points_scale * ln(lift))``, clipped to ``[-max_points, max_points]``, where lift is the share of
    won snapshots whose lead showed the type before the cutoff divided by that share among all snapshots
    (both Laplace-smoothed). ``predict_proba`` maps the score through a logistic fit (increasing in the
    score), so ranking metrics are those of the raw score.

    Input is a ``SnapshotBatch`` (``snapshots`` with ``lead_id`` and ``cutoff``; ``events`` with ``lead_id``,
    ``occurred_at``, ``event_type``), not the feature frame.
    """

    def __init__(
        self,
        points: dict[str, float] | None = None,
        half_life_days: float = 30.0,
        points_scale: float = 10.0,
        max_points: float = 20.0,
    ) -> None:
        self.points = points
        self.half_life_days = half_life_days
        self.points_scale = points_scale
        self.max_points = max_points

    def fit(self, X: SnapshotBatch, y: Any) -> PointsScoreBaseline:
        """Learn (or take) the points per event type and the score-to-probability mapping."""
        _check_batch(X)
        labels = np.asarray(y)
        if labels.shape != (len(X),):
            raise ValueError(f"y has shape {labels.shape} but the batch has {len(X)} snapshots")
        self.classes_ = np.unique(labels)
        if self.classes_.size != 2:
            raise ValueError(
                f"PointsScoreBaseline needs exactly two outcomes in y, found {self.classes_.tolist()}"
            )
        won = labels == self.classes_[1]
        self.points_ = dict(self.points) if self.points is not None else self._learn_points(X, won)
        score = self.score(X)
        self.calibration_slope_, self.calibration_intercept_ = fit_platt(score, won)
        return self

    def _learn_points(self, batch: SnapshotBatch, won: np.ndarray) -> dict[str, float]:
        presence = _type_presence_counts(batch, won)
        if presence.empty:
            return {}
        n_all, n_won = float(len(won)), float(won.sum())
        share_won = (presence["won_with"] + 1.0) / (n_won + 2.0)
        share_all = (presence["all_with"] + 1.0) / (n_all + 2.0)
        raw = np.round(self.points_scale * np.log((share_won / share_all).to_numpy(dtype=np.float64)))
        clipped = np.clip(raw, -self.max_points, self.max_points)
        return {str(k): float(v) for k, v in zip(presence.index, clipped, strict=True)}

    def score(self, X: SnapshotBatch) -> np.ndarray:
        """The decayed points score of each snapshot (vectorised: one sort, a cumsum and an as-of merge).

        Within each lead, events are weighted ``points * 2 ** ((t - t_last) / h)`` relative to the lead's
        last event and cumulated in time order; the score at cutoff ``c`` is the cumulated weight of the
        last event strictly before ``c`` times ``2 ** ((t_last - c) / h)``. Anchoring at the lead's last
        event keeps every exponent non-positive, so nothing overflows.
        """
        check_is_fitted(self, "points_")
        _check_batch(X)
        snapshots, events = X.snapshots, X.events
        score = np.zeros(len(snapshots), dtype=np.float64)
        if len(snapshots) == 0 or len(events) == 0:
            return score
        if not self.points_:
            return score
        half_life = float(self.half_life_days)
        if half_life <= 0:
            raise ValueError(f"half_life_days must be positive, got {half_life}")

        snap_leads, event_leads = _lead_codes(snapshots, events)
        wanted = event_leads >= 0
        types = events.loc[wanted, EVENT_TYPE].astype(str)
        points = types.map(self.points_).fillna(0.0).to_numpy(dtype=np.float64)
        scored = points != 0.0
        ev = pd.DataFrame(
            {
                LEAD_ID: event_leads[wanted][scored],
                "t": _days(events.loc[wanted, OCCURRED_AT], "events.occurred_at")[scored],
                "points": points[scored],
            }
        )
        if ev.empty:
            return score
        ev = ev.sort_values([LEAD_ID, "t"], kind="stable")
        last = ev.groupby(LEAD_ID, sort=False)["t"].transform("max").to_numpy()
        ev["weight"] = ev["points"].to_numpy() * np.exp2((ev["t"].to_numpy() - last) / half_life)
        ev["cum"] = ev.groupby(LEAD_ID, sort=False)["weight"].cumsum()
        ev["last"] = last

        snaps = pd.DataFrame(
            {
                LEAD_ID: snap_leads,
                "c": _days(snapshots[CUTOFF], "snapshots.cutoff"),
                "position": np.arange(len(snapshots)),
            }
        )
        matched = pd.merge_asof(
            snaps.sort_values("c", kind="stable"),
            ev.sort_values("t", kind="stable")[[LEAD_ID, "t", "cum", "last"]],
            left_on="c",
            right_on="t",
            by=LEAD_ID,
            direction="backward",
            allow_exact_matches=False,  # an event at the cutoff is not before it
        )
        has_event = matched["cum"].notna().to_numpy()
        values = matched["cum"].to_numpy(dtype=np.float64, na_value=0.0) * np.exp2(
            (matched["last"].to_numpy(dtype=np.float64, na_value=0.0) - matched["c"].to_numpy()) / half_life
        )
        score[matched["position"].to_numpy()[has_event]] = values[has_event]
        return score

    def predict_proba(self, X: SnapshotBatch) -> np.ndarray:
        """Class probabilities from the logistic mapping of the points score."""
        check_is_fitted(self, "calibration_slope_")
        p = platt_probability(self.score(X), self.calibration_slope_, self.calibration_intercept_)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: SnapshotBatch) -> np.ndarray:
        """The more probable class."""
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]


def _check_batch(batch: Any) -> None:
    if not isinstance(batch, SnapshotBatch):
        raise TypeError(f"PointsScoreBaseline works on a SnapshotBatch, got {type(batch).__name__}")
    for table, frame, required in (
        ("snapshots", batch.snapshots, (LEAD_ID, CUTOFF)),
        ("events", batch.events, (LEAD_ID, OCCURRED_AT, EVENT_TYPE)),
    ):
        absent = [c for c in required if c not in frame.columns]
        if absent and not (table == "events" and len(frame) == 0):
            raise ValueError(f"SnapshotBatch.{table} lacks column(s) {absent}; it has {list(frame.columns)}")
    if len(batch.events) and bool(batch.snapshots[CUTOFF].isna().any()):
        missing = int(batch.snapshots[CUTOFF].isna().sum())
        raise ValueError(
            f"PointsScoreBaseline needs snapshot cutoffs to age events, but {missing} snapshots have "
            "no cutoff (row-order dataset?)"
        )


def _lead_codes(snapshots: pd.DataFrame, events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes for the snapshots' leads, and the same codes for the events (-1: lead not in batch)."""
    codes, leads = pd.factorize(snapshots[LEAD_ID].astype(str), sort=False)
    index = pd.Index(leads)
    ids = events[LEAD_ID]
    if isinstance(ids.dtype, pd.CategoricalDtype):
        # Look up each category once instead of every event row.
        per_category = np.append(index.get_indexer(ids.cat.categories.astype(str)), -1)
        event_codes = per_category[ids.cat.codes.to_numpy()]  # code -1 (missing) picks the appended -1
    else:
        event_codes = index.get_indexer(ids.astype(str))
    return codes.astype(np.int64), np.asarray(event_codes, dtype=np.int64)


def _type_presence_counts(batch: SnapshotBatch, won: np.ndarray) -> pd.DataFrame:
    """Per event type: how many snapshots (all / won) had seen at least one such event before the cutoff.

    Each (lead, type) pair's first occurrence ``f`` is as-of merged onto the lead's snapshots sorted by
    cutoff, which gives how many of them have ``cutoff <= f``; the rest saw the type.
    """
    snapshots, events = batch.snapshots, batch.events
    if len(events) == 0:
        return pd.DataFrame(columns=["all_with", "won_with"])
    snap_leads, event_leads = _lead_codes(snapshots, events)
    snaps = pd.DataFrame(
        {LEAD_ID: snap_leads, "c": _days(snapshots[CUTOFF], "snapshots.cutoff"), "won": won}
    ).sort_values([LEAD_ID, "c"], kind="stable")
    grouped = snaps.groupby(LEAD_ID, sort=False)
    snaps["n_upto"] = grouped.cumcount() + 1
    snaps["won_upto"] = grouped["won"].cumsum()
    totals = grouped.agg(n_total=("won", "size"), won_total=("won", "sum"))

    wanted = event_leads >= 0
    first = (
        pd.DataFrame(
            {
                LEAD_ID: event_leads[wanted],
                EVENT_TYPE: events.loc[wanted, EVENT_TYPE].astype(str).to_numpy(),
                "f": _days(events.loc[wanted, OCCURRED_AT], "events.occurred_at"),
            }
        )
        .groupby([LEAD_ID, EVENT_TYPE], sort=False)["f"]
        .min()
        .reset_index()
    )
    matched = pd.merge_asof(
        first.sort_values("f", kind="stable"),
        snaps.sort_values("c", kind="stable")[[LEAD_ID, "c", "n_upto", "won_upto"]],
        left_on="f",
        right_on="c",
        by=LEAD_ID,
        direction="backward",
        allow_exact_matches=True,  # a snapshot whose cutoff equals the event's time has not seen it
    )
    matched = matched.join(totals, on=LEAD_ID)
    matched["all_with"] = matched["n_total"] - matched["n_upto"].fillna(0)
    matched["won_with"] = matched["won_total"] - matched["won_upto"].fillna(0)
    return matched.groupby(EVENT_TYPE)[["all_with", "won_with"]].sum()
