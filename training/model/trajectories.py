"""Ripening trajectories: how long below-threshold snapshots took to cross the handover threshold.

From the training snapshots of each lead in time order: the days from a snapshot below the threshold to
the lead's first later snapshot at or above it (``days_to_first_crossing``), summarised per score band
(``ripening_trajectories``) so that serving can say how long similar leads took, or that it cannot.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from training.model.serving_types import Ripening, RipeningBand


def ripening_trajectories(
    snapshots: pd.DataFrame,
    readiness: np.ndarray,
    threshold: float,
    *,
    min_support: int = 30,
    min_ripen_rate: float = 0.1,
    band_fractions: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0),
) -> Ripening:
    """Days from a below-threshold snapshot to its lead's first later snapshot above it, by score band.

    Bands are fractions of the threshold (e.g. 0-25 % of it, ..., 75-100 %). A band gives an estimate
    (median days among those that ripened) only when at least ``min_support`` of its snapshots ripened
    later and they are at least ``min_ripen_rate`` of the band: a median over the rare few that ripened
    would promise a typical lead of the band far too much.
    """
    days = days_to_first_crossing(snapshots, readiness, threshold)
    below = readiness < threshold
    bands = []
    for low, high in itertools.pairwise(band_fractions):
        lower, upper = low * threshold, high * threshold
        in_band = below & (readiness >= lower) & (readiness < upper)
        ripened = days[in_band]
        ripened = ripened[~np.isnan(ripened)]
        p25 = median = p75 = None
        if len(ripened):
            p25, median, p75 = (float(q) for q in np.quantile(ripened, [0.25, 0.5, 0.75]))
        n_below = int(in_band.sum())
        bands.append(
            RipeningBand(
                lower=float(lower),
                upper=float(upper),
                n_below=n_below,
                n_ripened=len(ripened),
                ripen_rate=len(ripened) / n_below if n_below else None,
                median_days=median,
                p25_days=p25,
                p75_days=p75,
                estimate_available=bool(
                    len(ripened) >= min_support and len(ripened) >= min_ripen_rate * max(n_below, 1)
                ),
            )
        )
    return Ripening(min_support=min_support, min_ripen_rate=min_ripen_rate, bands=bands)


def ripened_later(
    snapshots: pd.DataFrame, readiness: np.ndarray, threshold: float, horizon_days: int
) -> np.ndarray:
    """For each snapshot: does its lead have a later snapshot at/above the threshold within the horizon?"""
    days = days_to_first_crossing(snapshots, readiness, threshold)
    return ~np.isnan(days) & (days <= horizon_days)


def days_to_first_crossing(snapshots: pd.DataFrame, readiness: np.ndarray, threshold: float) -> np.ndarray:
    """Days from each snapshot to the first later snapshot of the same lead at/above the threshold.

    NaN where the lead never crossed later (or cutoffs are unknown, as in row-order datasets).
    """
    t_days = _as_days(snapshots["cutoff"])
    frame = pd.DataFrame(
        {
            "lead": snapshots["lead_id"].to_numpy(),
            "t": t_days,
            "above_t": np.where(np.asarray(readiness) >= threshold, t_days, np.inf),
            "pos": np.arange(len(snapshots)),
        }
    )
    frame["above_t"] = frame["above_t"].fillna(np.inf)
    frame = frame.sort_values(["lead", "t"], kind="stable")
    # Within each lead (sorted by time): shift up one row so only *later* snapshots count, then take a
    # running minimum from the end backwards.
    later = frame.groupby("lead", sort=False)["above_t"].shift(-1).fillna(np.inf)
    earliest = later.iloc[::-1].groupby(frame["lead"].iloc[::-1], sort=False).cummin().iloc[::-1]
    delta = earliest.to_numpy() - frame["t"].to_numpy()
    delta[~np.isfinite(delta)] = np.nan
    out = np.full(len(snapshots), np.nan)
    out[frame["pos"].to_numpy()] = delta
    return out


def _as_days(values: pd.Series) -> np.ndarray:
    """Timestamps as float days since the epoch, missing as NaN."""
    stamps = pd.to_datetime(values, utc=True)
    out = np.full(len(stamps), np.nan)
    known = stamps.notna().to_numpy()
    out[known] = stamps[known].dt.as_unit("s").astype("int64").to_numpy() / 86_400.0
    return out
