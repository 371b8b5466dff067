"""The parameters of the simulated lead journey, as tables indexed by the latent state.

The latent state of a lead on a given day is small and discrete on purpose, so that the true
probability of a win can be computed exactly (``training.simulation.truth``) instead of estimated:

* ``interest``: an integer level ``0 .. INTEREST_LEVELS - 1``; ``ripeness = interest / (levels - 1)``.
  Each day every unit of interest is lost with probability ``decay_per_level * interest`` (at most one
  unit a day, so interest decays exponentially in expectation, half-life about four weeks) and
  nurturing events add their ``boost``;
* ``fit``: a tier ``0 .. FIT_TIERS - 1``, a deterministic function of the profile (points per
  attribute value, summed and clipped), so that a model can learn it from the leads table;
* ``emailable``: False after an unsubscribe or a hard bounce; email events stop for good then.

Event counts per day are Poisson with rates that depend on that state; high-intent events (pricing,
demo, trial, contact sales) grow with a high power of ripeness, so they mostly happen when a lead is
ripe. The historical handover policy is triggered by the events of a day (a demo request nearly always,
a webinar attendance sometimes: the "marketing qualified" rule that hands green leads over) or by a
salesperson grabbing a lead for its fit; the chance to win depends on ripeness at handover and fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

INTEREST_LEVELS = 41
FIT_TIERS = 8
#: The window after a cutoff in which a win counts for the ground truth (the design's default horizon).
HORIZON_DAYS = 90


@dataclass(frozen=True)
class EventKind:
    """One event type: how often it happens at ripeness r, what it does to interest and handover.

    Daily rate: ``base + linear * r + square * r**2 + quartic * r**4``, times
    ``1 + fit_slope * (fit - mid tier)``, and 0 for email events when the lead cannot be emailed.
    ``boost`` interest levels are added per event; ``handover_chance`` is the chance that one such event
    makes the historical policy hand the lead over.
    """

    name: str
    base: float
    linear: float = 0.0
    square: float = 0.0
    quartic: float = 0.0
    boost: int = 0
    handover_chance: float = 0.0
    email: bool = False
    ends_email: bool = False
    fit_slope: float = 0.0

    def rate(self, ripeness: np.ndarray) -> np.ndarray:
        return self.base + self.linear * ripeness + self.square * ripeness**2 + self.quartic * ripeness**4


# Interest feeds on itself: nurturing events raise it and their rates rise with it. With these rates the
# daily gain crosses the decay twice: cold leads settle low, and a lead pushed past about half-ripe keeps
# ripening until it is handed over; jumps (a download, a webinar) push some leads over.
EVENT_KINDS: tuple[EventKind, ...] = (
    EventKind("email_open", 0.05, linear=0.2, email=True),
    EventKind("email_click", 0.004, linear=0.05, square=0.12, boost=1, email=True),
    EventKind("site_visit", 0.012, linear=0.1, square=0.55, boost=1),
    EventKind("blog_view", 0.008, linear=0.06),
    EventKind("content_download", 0.0045, linear=0.015, square=0.12, boost=3),
    EventKind("webinar_registered", 0.0015, linear=0.01, square=0.03, boost=1),
    EventKind("webinar_attended", 0.002, linear=0.008, square=0.03, boost=5, handover_chance=0.2),
    EventKind("case_study_view", 0.0005, linear=0.01, square=0.06, boost=2),
    EventKind(
        "pricing_page_view", 0.0003, square=0.04, quartic=0.2, boost=2, handover_chance=0.03, fit_slope=0.1
    ),
    EventKind("demo_request", 0.0001, quartic=0.05, boost=3, handover_chance=0.9, fit_slope=0.1),
    EventKind("free_trial_signup", 0.0001, quartic=0.025, boost=3, handover_chance=0.6, fit_slope=0.1),
    EventKind("contact_sales_form", 0.0001, quartic=0.02, boost=2, handover_chance=0.9, fit_slope=0.1),
    EventKind("unsubscribe", 0.004, linear=-0.004, email=True, ends_email=True),
    EventKind("email_bounce", 0.0006, email=True, ends_email=True),
)
EVENT_TYPES: tuple[str, ...] = tuple(kind.name for kind in EVENT_KINDS)


@dataclass(frozen=True)
class Attribute:
    """A categorical profile attribute: its values, how common each is and its fit points."""

    name: str
    values: tuple[str, ...]
    weights: tuple[float, ...]
    fit_points: tuple[int, ...]


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "industry",
        (
            "software",
            "financial_services",
            "manufacturing",
            "healthcare",
            "retail",
            "professional_services",
            "education",
            "public_sector",
        ),
        (0.2, 0.12, 0.14, 0.1, 0.12, 0.14, 0.1, 0.08),
        (2, 2, 1, 1, 1, 1, 0, 0),
    ),
    Attribute(
        "company_size",
        ("1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+"),
        (0.25, 0.25, 0.2, 0.15, 0.1, 0.05),
        (0, 1, 2, 2, 1, 1),
    ),
    Attribute(
        "role",
        ("student", "individual_contributor", "manager", "director", "vp", "c_level"),
        (0.08, 0.34, 0.28, 0.15, 0.08, 0.07),
        (0, 0, 1, 2, 2, 1),
    ),
    Attribute(
        "country",
        ("US", "GB", "DE", "NL", "FR", "ES", "IN", "BR"),
        (0.35, 0.12, 0.12, 0.05, 0.09, 0.07, 0.12, 0.08),
        (1, 1, 1, 1, 0, 0, 0, 0),
    ),
)
#: Employee count range of each company size band (the numeric twin of ``company_size``).
EMPLOYEE_BANDS: tuple[tuple[int, int], ...] = (
    (1, 10),
    (11, 50),
    (51, 200),
    (201, 1000),
    (1001, 5000),
    (5001, 50000),
)

#: Where leads come from, how common each source is and the mean interest a lead starts with.
SOURCES: tuple[str, ...] = (
    "organic_search",
    "paid_search",
    "content_download",
    "webinar",
    "referral",
    "trade_show",
    "cold_outbound",
    "social",
)
SOURCE_WEIGHTS: tuple[float, ...] = (0.22, 0.17, 0.14, 0.1, 0.07, 0.08, 0.14, 0.08)
SOURCE_START_INTEREST: tuple[float, ...] = (5.0, 4.0, 7.0, 9.0, 14.0, 8.0, 1.0, 3.0)

CATEGORICAL_COLUMNS: tuple[str, ...] = ("source", *(attribute.name for attribute in ATTRIBUTES))
NUMERIC_COLUMNS: tuple[str, ...] = ("employees",)


@dataclass(frozen=True)
class JourneyParameters:
    """Scalar parameters of the journey; the defaults give a 5-20 % win rate."""

    #: Daily chance, per unit of interest, of losing one unit: an interest half-life of four weeks.
    decay_per_level: float = math.log(2) / 35
    #: Win chance at handover: logistic in ripeness and fit.
    win_intercept: float = -3.6
    win_ripeness: float = 4.2
    win_fit: float = 0.3
    #: Daily chance that a salesperson grabs a nurtured lead, per fit tier above ``grab_from_tier``.
    grab_per_tier: float = 0.0002
    grab_from_tier: int = 3
    #: Daily chance of disqualifying (closing as lost) a nurtured lead with interest <= ``cold_level``.
    disqualify_chance: float = 0.006
    cold_level: int = 2
    #: Sales cycle after handover: ``min_cycle_days`` plus a gamma(2, ``cycle_scale_days``) delay.
    min_cycle_days: float = 10.0
    cycle_scale_days: float = 20.0


class JourneyModel:
    """The journey's tables by state, shared by the simulation and the exact ground truth.

    ``state = (interest * FIT_TIERS + fit) * 2 + emailable``.
    """

    def __init__(self, parameters: JourneyParameters | None = None) -> None:
        self.parameters = parameters or JourneyParameters()
        p = self.parameters
        levels = np.arange(INTEREST_LEVELS)
        ripeness = levels / (INTEREST_LEVELS - 1)
        fit = np.arange(FIT_TIERS)
        self.n_states = INTEREST_LEVELS * FIT_TIERS * 2
        rates = np.zeros((INTEREST_LEVELS, FIT_TIERS, 2, len(EVENT_KINDS)))
        for j, kind in enumerate(EVENT_KINDS):
            by_ripeness = kind.rate(ripeness)
            by_fit = 1.0 + kind.fit_slope * (fit - (FIT_TIERS - 1) / 2)
            rate = np.clip(by_ripeness[:, None] * by_fit[None, :], 0.0, None)
            rates[:, :, 1, j] = rate
            rates[:, :, 0, j] = 0.0 if kind.email else rate
        #: Daily Poisson rate of each event type, shape ``(n_states, n_types)``.
        self.rates = rates.reshape(self.n_states, len(EVENT_KINDS))
        self.boost = np.array([kind.boost for kind in EVENT_KINDS], dtype=np.int64)
        self.handover_chance = np.array([kind.handover_chance for kind in EVENT_KINDS])
        self.ends_email = np.array([kind.ends_email for kind in EVENT_KINDS])
        self.is_email = np.array([kind.email for kind in EVENT_KINDS])
        #: Daily chance that one unit of interest is lost, by interest level.
        self.decay = np.clip(p.decay_per_level * levels, 0.0, 1.0)
        #: Win chance at handover, shape ``(INTEREST_LEVELS, FIT_TIERS)``.
        logit = p.win_intercept + p.win_ripeness * ripeness[:, None] + p.win_fit * (fit[None, :] - 3.5)
        self.win_chance = 1.0 / (1.0 + np.exp(-logit))
        self.grab = np.clip(p.grab_per_tier * (fit - p.grab_from_tier), 0.0, None)
        self.disqualify = np.where(levels <= p.cold_level, p.disqualify_chance, 0.0)

    @staticmethod
    def state_index(interest: np.ndarray, fit: np.ndarray, emailable: np.ndarray) -> np.ndarray:
        """The state number of each lead (see the class docstring)."""
        return (interest.astype(np.int64) * FIT_TIERS + fit) * 2 + emailable

    def log_cycle_survival(self, days: np.ndarray) -> np.ndarray:
        """log P(sales cycle > days): ``min_cycle_days`` plus a gamma(2, scale) delay."""
        p = self.parameters
        y = np.clip((np.asarray(days, dtype=np.float64) - p.min_cycle_days) / p.cycle_scale_days, 0.0, None)
        return -y + np.log1p(y)

    def sample_cycle(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Sales cycle lengths in days."""
        p = self.parameters
        return p.min_cycle_days + rng.gamma(2.0, p.cycle_scale_days, size)

    def handover_win_probability(self, horizon_days: int) -> np.ndarray:
        """P(won within ``horizon_days`` | handed over now), shape ``(INTEREST_LEVELS, FIT_TIERS)``: the
        win chance at handover for the interest and fit, times the chance that the sales cycle, starting
        now, closes within the horizon. This is the quantity a "ripe" verdict is about."""
        closes_in_time = -np.expm1(self.log_cycle_survival(np.array(float(horizon_days))))
        return self.win_chance * float(closes_in_time)

    def cycle_cdf_after_handover_day(self, days: np.ndarray) -> np.ndarray:
        """P(U + cycle <= days), U uniform on [0, 1): a handover decided on a day happens during the next."""
        p = self.parameters
        theta = p.cycle_scale_days

        def integral(y: np.ndarray) -> np.ndarray:
            # Integral of the gamma(2, theta) CDF from 0 to y (0 for y <= 0).
            y = np.clip(y, 0.0, None)
            return y + theta * np.exp(-y / theta) * (2.0 + y / theta) - 2.0 * theta

        y = np.asarray(days, dtype=np.float64) - p.min_cycle_days
        return integral(y) - integral(y - 1.0)
