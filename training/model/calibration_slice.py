"""Slice calibration: a shrunk correction of readiness on one slice of snapshots (the hand-raisers).

Why: readiness is calibrated once for all snapshots (``training.model.calibration``). A slice the trees
rarely see, such as leads that asked for contact in the last days (a few hundred training snapshots),
can stay miscalibrated although the whole is right on average: the trees hardly split on it.

What: on the slice's rows only, ``readiness' = floor + (1 - floor) * sigmoid(logit(r) + a + b * (logit(r)
- centre))``, with ``a``, ``b`` and ``floor`` the posterior mode under priors centred on "no change of
the line" (Gaussian on ``a`` and ``b`` around 0) and, for the floor, on "as often as the average training
snapshot" (Gaussian on ``logit(floor)`` around the logit of the training base rate, kept within
0.01%-50%, wide): a snapshot of a lead that asked for contact is not expected to win less often than one
picked at random, at whatever base rate the export has. The floor is there because the slice's low end is
where readiness is most wrong: a lead that asked for contact wins now and then whatever its readiness
says (on the simulator, hand-raisers scored at ~3% won ~6-10%), which one line in log-odds can only reach
by flattening the whole slice. The prior is what keeps a few rows from producing a wild fit: the
correction moves away from its centre only as far as the evidence outweighs the prior, so with few rows
the line stays close to unchanged and the floor close to the base rate (which lifts only the slice's rows
scored under it), and with many it approaches the plain maximum-likelihood fit. Snapshots of one lead
share one outcome, so each row is weighted by one over its lead's number of slice rows: the evidence
counts leads, not snapshots.

It is learnt on training rows with an out-of-sample readiness (held-out leads; the model selection's
validation blocks, ``training.model.decision_learn.slice_evidence``), stored as a typed
``SliceCalibration`` and applied by ``SliceCalibration.apply``: a handful of arithmetic operations per
row, nothing at all for rows outside the slice.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

#: Prior standard deviations of the correction's intercept (log-odds) and slope change. An intercept of
#: 1 sd multiplies the slice's odds by e; a slope change of 1 sd stretches its log-odds by 25%.
PRIOR_SD_INTERCEPT = 1.0
PRIOR_SD_SLOPE = 0.25
#: Prior of the floor, on its log-odds: centred on the training base rate (``fit_slice_calibration``'s
#: ``floor_prior``), sd 2 (at a 2% base rate, 95% between 0.04% and 50%). Without a base rate: ~0.7%.
PRIOR_FLOOR = 1.0 / (1.0 + np.exp(5.0))
PRIOR_SD_FLOOR = 2.0
#: The floor prior's centre is kept inside these bounds (a base rate of 0 or 1 has no log-odds).
_FLOOR_PRIOR_BOUNDS = (1e-4, 0.5)
#: Fewer slice leads than this among the out-of-sample rows: no correction (nothing to learn from).
MIN_SLICE_LEADS = 10
_EPS = 1e-9


class SliceCalibration(BaseModel):
    """``readiness' = floor + (1 - floor) * sigmoid(intercept + slope * logit(readiness))`` on the slice's
    rows; the readiness of every other row, and of every row when ``available`` is false, is left as it
    is. Cards written before the floor existed read as ``floor = 0``: the same correction as then."""

    model_config = ConfigDict(extra="forbid")

    available: bool = False
    intercept: float = 0.0
    slope: float = 1.0
    floor: float = Field(default=0.0, ge=0.0, lt=1.0)
    #: The out-of-sample evidence: slice rows, their leads and the wins among the rows.
    n_rows: int = 0
    n_leads: int = 0
    n_wins: int = 0
    #: On those slice rows (lead-weighted): mean readiness before and after, and the win rate (readiness
    #: "before" is each row's out-of-sample one: the served model's held-out trees or a selection fold's).
    readiness_before: float | None = None
    readiness_after: float | None = None
    win_rate: float | None = None
    prior_sd_intercept: float = PRIOR_SD_INTERCEPT
    prior_sd_slope: float = PRIOR_SD_SLOPE
    #: the centre of the floor's prior (the training base rate; ~0.7% on cards written before it was)
    prior_floor: float = PRIOR_FLOOR
    basis: str = "No slice calibration: readiness is used as the model gives it."

    def apply(self, readiness: np.ndarray, in_slice: np.ndarray) -> np.ndarray:
        """The readiness with the correction applied to the rows of the slice (a new array only when
        some row is corrected)."""
        readiness = np.asarray(readiness, dtype=np.float64)
        if not self.available:
            return readiness
        rows = np.asarray(in_slice, dtype=bool)
        if not rows.any():  # the common case on the API: one lead that did not ask for contact
            return readiness
        r = np.clip(readiness[rows], _EPS, 1.0 - _EPS)
        out = readiness.copy()
        lifted = 1.0 / (1.0 + np.exp(-(self.intercept + self.slope * np.log(r / (1.0 - r)))))
        out[rows] = self.floor + (1.0 - self.floor) * lifted
        return out


def fit_slice_calibration(
    readiness: np.ndarray,
    won: np.ndarray,
    leads: np.ndarray,
    *,
    slice_name: str = "slice",
    prior_sd_intercept: float = PRIOR_SD_INTERCEPT,
    prior_sd_slope: float = PRIOR_SD_SLOPE,
    floor_prior: float = PRIOR_FLOOR,
    min_leads: int = MIN_SLICE_LEADS,
) -> SliceCalibration:
    """The shrunk correction (module docstring) from the slice's out-of-sample rows: their readiness, whether
    each met the target and its lead; ``floor_prior``: the centre of the floor's prior (the training base
    rate). Too few leads: an unavailable calibration that says why."""
    readiness = np.asarray(readiness, dtype=np.float64)
    y = np.asarray(won, dtype=np.float64)
    _, codes, counts = np.unique(np.asarray(leads), return_inverse=True, return_counts=True)
    n_rows, n_leads, n_wins = len(readiness), len(counts), int(y.sum())
    floor_prior = float(np.clip(floor_prior, *_FLOOR_PRIOR_BOUNDS))
    base = SliceCalibration(
        n_rows=n_rows,
        n_leads=n_leads,
        n_wins=n_wins,
        prior_sd_intercept=prior_sd_intercept,
        prior_sd_slope=prior_sd_slope,
        prior_floor=floor_prior,
    )
    if n_leads < min_leads:
        return base.model_copy(
            update={
                "basis": (
                    f"No {slice_name} calibration: {n_leads} leads of the out-of-sample training rows are in "
                    f"the slice ({n_rows} snapshots); at least {min_leads} are needed to learn anything."
                )
            }
        )
    weight = 1.0 / counts[codes]
    r = np.clip(readiness, _EPS, 1.0 - _EPS)
    logit = np.log(r / (1.0 - r))
    centre = float(np.average(logit, weights=weight))
    a, b, floor = _posterior_mode(
        logit, logit - centre, y, weight, (prior_sd_intercept, prior_sd_slope), floor_prior
    )
    fitted = base.model_copy(
        update={
            "available": True,
            "intercept": float(a - b * centre),
            "slope": float(1.0 + b),
            "floor": floor,
        }
    )
    after = fitted.apply(r, np.ones(len(r), dtype=bool))
    before_mean = float(np.average(r, weights=weight))
    after_mean = float(np.average(after, weights=weight))
    rate = float(np.average(y, weights=weight))
    basis = (
        f"Learnt on {n_rows} out-of-sample training snapshots of {n_leads} leads in the {slice_name} slice "
        f"({n_wins} met the target): their mean readiness {before_mean:.3f} against a win rate of "
        f"{rate:.3f} (both lead-weighted), corrected to {after_mean:.3f} with a floor of {floor:.3f} "
        f"(shrunk by priors of sd {prior_sd_intercept:g} on the intercept and {prior_sd_slope:g} on the "
        f"slope toward no change of the line, and {PRIOR_SD_FLOOR:g} on the floor's log-odds around "
        f"{floor_prior:.3f})."
    )
    return fitted.model_copy(
        update={
            "readiness_before": before_mean,
            "readiness_after": after_mean,
            "win_rate": rate,
            "basis": basis,
        }
    )


def _posterior_mode(
    offset: np.ndarray,
    centred: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    prior_sd: tuple[float, float],
    floor_prior: float,
) -> tuple[float, float, float]:
    """``(a, b, floor)`` maximising the weighted log-likelihood of ``y`` under ``p = floor + (1 - floor) *
    sigmoid(offset + a + b * centred)`` plus the log-priors (module docstring). The floor makes the
    objective non-concave, so it is searched with Nelder-Mead (SciPy) from two starts (the prior's floor
    and tenfold odds) and the better end is kept: deterministic, and ~0.2 s once per training on the few
    thousand rows a slice has (3,000 rows: 160 ms of CPU)."""
    from scipy.optimize import minimize  # only when a slice is learnt (training), not at import

    precision = 1.0 / np.square(np.asarray(prior_sd, dtype=np.float64))
    floor_centre = float(np.log(floor_prior / (1.0 - floor_prior)))

    def negative_log_posterior(theta: np.ndarray) -> float:
        a, b, floor_logit = theta
        floor = 1.0 / (1.0 + np.exp(-floor_logit))
        p = floor + (1.0 - floor) / (1.0 + np.exp(-(offset + a + b * centred)))
        p = np.clip(p, _EPS, 1.0 - _EPS)
        loglik = np.sum(weight * (y * np.log(p) + (1.0 - y) * np.log1p(-p)))
        prior = 0.5 * (precision[0] * a * a + precision[1] * b * b)
        prior += 0.5 * ((floor_logit - floor_centre) / PRIOR_SD_FLOOR) ** 2
        return float(prior - loglik)

    options = {"xatol": 1e-7, "fatol": 1e-10, "maxiter": 5000, "maxfev": 10000}
    fits = [
        minimize(negative_log_posterior, np.array([0.0, 0.0, start]), method="Nelder-Mead", options=options)
        for start in (floor_centre, floor_centre + np.log(10.0))
    ]
    a, b, floor_logit = min(fits, key=lambda fit: float(fit.fun)).x
    return float(a), float(b), float(1.0 / (1.0 + np.exp(-floor_logit)))
