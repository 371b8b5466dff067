"""The decision policy stored with a model: what "ripe" and "gone cold" mean for it, as typed values.

``training.model.decision_fit`` learns a ``DecisionPolicy`` from the training period; the pure functions
of ``training.model.decision`` apply it, in the API, the MLflow model, batch scoring and the benchmarks
alike. It lives in the model card (``ModelCard.decision``) as JSON.

- ``HandoverEstimate``: the chance of a win within the horizon *if the lead is handed over now*, the
  quantity the ``ripe`` verdict is about. It is a logistic correction of the readiness score learnt on
  at-handover snapshots (the state of each historical lead at its handover -> its outcome).
- ``HandRaisers``: which event types mean "I want personal contact", and the optional rule that makes
  such a lead ``ripe`` when its fit clears a floor.
- ``GoneCold``: when a lead that is not ripe has gone cold (waiting will not ripen it), with hysteresis.
- ``hand_raiser_calibration`` (``training.model.calibration_slice.SliceCalibration``): a shrunk correction
  of the readiness of leads that asked for contact, learnt on training snapshots with an out-of-sample
  readiness (held-out leads, the model selection's validation blocks); every use of the policy applies it
  first (``training.model.decision.readiness_and_chance``).
"""

from __future__ import annotations

import functools
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from training.features.targets import TargetKind
from training.model.calibration_slice import SliceCalibration
from training.model.serving_types import GradeEdges

#: Event types that mean "I want personal contact" when a CRM uses these names. Configurable per
#: training run (``[decision] hand_raising_events``); matching ignores case, spaces and dashes.
DEFAULT_HAND_RAISING_EVENTS: tuple[str, ...] = (
    "demo_request",
    "demo_requested",
    "contact_sales",
    "contact_sales_form",
    "contact_request",
    "trial_signup",
    "free_trial_signup",
    "meeting_request",
    "meeting_booked",
    "quote_request",
    "pricing_request",
)

#: What the policy decides on: the target the model was trained on (``[target] kind``).
Target = TargetKind
#: The hysteresis looks at a lead at most this many times before ``as_of`` (each look is a feature row).
MAX_EARLIER_LOOKS = 8
FitGrade = Literal["A", "B", "C", "D"]


@functools.lru_cache(maxsize=4096)
def normalise_event_type(name: str) -> str:
    """Event type names compared loosely: ``Demo Request`` and ``demo-request`` match ``demo_request``.
    Cached: serving normalises every event type name of every request."""
    return "_".join(str(name).strip().lower().replace("-", " ").split())


class HandoverEstimate(BaseModel):
    """``chance = sigmoid(intercept + slope * logit(readiness) + contact_coef * contact_requested)``.

    Without enough at-handover snapshots (``available`` false) the chance is the readiness itself.
    """

    model_config = ConfigDict(extra="forbid")

    available: bool = False
    intercept: float = 0.0
    slope: float = 1.0
    contact_coef: float = 0.0
    n_handovers: int = 0
    n_handover_wins: int = 0
    #: Overlap: the 1st percentile of readiness among historical at-handover snapshots. A live lead below
    #: it is unlike (almost) any lead ever handed over, so its estimate is an extrapolation.
    overlap_min_readiness: float | None = None
    basis: str = "No correction: the chance if handed over now is taken to be the readiness score."

    def chance(self, readiness: np.ndarray, contact_requested: np.ndarray) -> np.ndarray:
        """The estimated chance of a win within the horizon if handed over now, per row."""
        # minimum/maximum: np.clip's dispatch cost more than the arithmetic on a single lead
        r = np.minimum(np.maximum(np.asarray(readiness, dtype=np.float64), 1e-9), 1.0 - 1e-9)
        if not self.available:
            return r
        margin = self.intercept + self.slope * np.log(r / (1.0 - r))
        margin = margin + self.contact_coef * np.asarray(contact_requested, dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-margin))

    def readiness_for(self, chance: float) -> float:
        """The readiness whose chance (without a contact request) is ``chance``: the threshold on the
        readiness scale, for metrics and statistics that rank by readiness."""
        c = min(max(float(chance), 1e-9), 1.0 - 1e-9)
        if not self.available or self.slope <= 0:
            return float(chance)
        margin = (np.log(c / (1.0 - c)) - self.intercept) / self.slope
        return float(1.0 / (1.0 + np.exp(-margin)))

    def outside_overlap(self, readiness: np.ndarray) -> np.ndarray:
        """Rows whose readiness is below that of (almost) every lead ever handed over."""
        r = np.asarray(readiness, dtype=np.float64)
        if self.overlap_min_readiness is None:
            return np.zeros(len(r), dtype=bool)
        return r < self.overlap_min_readiness


class HandRaisers(BaseModel):
    """Hand-raising events and the optional rule for leads that show one."""

    model_config = ConfigDict(extra="forbid")

    event_types: list[str] = Field(default_factory=lambda: list(DEFAULT_HAND_RAISING_EVENTS))
    #: A hand-raising event counts when it happened within this many days before ``as_of``.
    window_days: float = Field(default=7.0, gt=0)
    #: The rule: a lead that asked for contact is ``ripe`` when its fit grade is ``min_fit`` or better.
    rule_enabled: bool = False
    #: Fit is the answers' fit axis (``serving.explanation``): the profile features' contributions graded
    #: A (top quarter) to D by the model's reference population. "C": not in the lowest fit quartile.
    min_fit: FitGrade = "C"

    def matches(self, event_type: str) -> bool:
        """Whether ``event_type`` is a hand-raising event (loose match, see ``normalise_event_type``)."""
        return normalise_event_type(event_type) in {normalise_event_type(t) for t in self.event_types}


class GoneCold(BaseModel):
    """A lead that is not ripe is gone cold when its readiness is below ``readiness_level``, or it has not
    engaged for ``min_days_inactive`` days while below ``exit_factor`` times the level. Once gone cold it
    stays so until its readiness reaches ``exit_factor`` times the level or it is ripe (hysteresis).

    The hysteresis is recomputed from the request's own events, so the API stays stateless: the lead is
    looked at ``earlier_looks`` more times, ``lookback_days`` apart, and the state is carried from the
    oldest look to ``as_of`` (cold at a look that is plainly cold, warm at one at or above the band's top,
    unchanged in between). One earlier look alone forgets a lead cold two looks ago that has sat inside
    the band since, so such leads flickered between ``gone_cold`` and ``too_green`` week by week.
    """

    model_config = ConfigDict(extra="forbid")

    available: bool = False
    readiness_level: float | None = None
    min_days_inactive: float | None = None
    exit_factor: float = Field(default=2.5, ge=1)
    lookback_days: float = Field(default=7.0, gt=0)
    #: How many looks before ``as_of`` the hysteresis recomputes (1: policies written before the chain).
    earlier_looks: int = Field(default=1, ge=1, le=MAX_EARLIER_LOOKS)
    #: Historical share of below-threshold snapshots under the level / beyond the cutoff that ripened.
    ripen_rate_below_level: float | None = None
    ripen_rate_beyond: float | None = None
    ripen_rate_below_threshold: float | None = None
    rule: str = "No gone-cold rule is stored with this model: no lead is called gone cold."


class DecisionPolicy(BaseModel):
    """Everything the verdict needs beyond the model's scores."""

    model_config = ConfigDict(extra="forbid")

    #: The target the model was trained on (``[target] kind``) and its horizon: the chance below is the
    #: chance of reaching that target within ``horizon_days`` if handed over now. Policies written
    #: before targets were wired in say "won" and 90, which is what they were trained on.
    target: Target = "won"
    horizon_days: int = 90
    #: The handover threshold, applied to ``HandoverEstimate.chance``.
    threshold: float
    estimate: HandoverEstimate = Field(default_factory=HandoverEstimate)
    hand_raisers: HandRaisers = Field(default_factory=HandRaisers)
    #: The readiness of a lead with a hand-raising event in the window, corrected on training snapshots
    #: with an out-of-sample readiness (off, and saying why, without enough of them; policies written
    #: before it have none).
    hand_raiser_calibration: SliceCalibration = Field(default_factory=SliceCalibration)
    gone_cold: GoneCold = Field(default_factory=GoneCold)
    #: Lower edges of grades A, B, C on the chance if handed over now (A = the threshold); None: the
    #: serving statistics' grades on readiness (a policy implied by a card without one).
    grade_edges: GradeEdges | None = None


class DecisionSettings(BaseModel):
    """The ``[decision]`` section of the training config (all keys optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hand_raising_events: list[str] = Field(default_factory=lambda: list(DEFAULT_HAND_RAISING_EVENTS))
    hand_raising_window_days: float = Field(default=7.0, gt=0)
    #: make a lead that asked for contact ripe when its fit clears the floor (verdict_source "rule")
    hand_raiser_rule: bool = False
    #: the floor: the lowest fit grade (A best .. D) the rule accepts; "C": not in the lowest fit quartile
    hand_raiser_min_fit: FitGrade = "C"
    #: learn the hand-raiser slice calibration (``training.model.calibration_slice``); false: never
    hand_raiser_calibration: bool = True
    #: gone cold: every band of readiness under the level ripened less often than this
    gone_cold_max_rate: float = Field(default=0.08, gt=0, lt=1)
    #: hysteresis: a gone-cold lead re-warms when its score reaches this multiple of the level
    gone_cold_exit_factor: float = Field(default=2.5, ge=1)
    #: hysteresis: how many earlier looks (one snapshot spacing apart) carry the gone-cold state to as_of
    gone_cold_earlier_looks: int = Field(default=4, ge=1, le=MAX_EARLIER_LOOKS)

    def hand_raisers(self) -> HandRaisers:
        """The ``HandRaisers`` these settings describe (without the fit floor, learnt later)."""
        return HandRaisers(
            event_types=list(self.hand_raising_events),
            window_days=self.hand_raising_window_days,
            rule_enabled=self.hand_raiser_rule,
            min_fit=self.hand_raiser_min_fit,
        )
