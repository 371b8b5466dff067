"""Who the simulated leads are: source, firmographics, role, country, and what follows from them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.simulation.model import (
    ATTRIBUTES,
    EMPLOYEE_BANDS,
    FIT_TIERS,
    INTEREST_LEVELS,
    SOURCE_START_INTEREST,
    SOURCE_WEIGHTS,
)


@dataclass
class Profiles:
    """Profiles of a block of leads, as codes into the value tuples of ``training.simulation.model``."""

    source: np.ndarray
    attributes: dict[str, np.ndarray]
    employees: np.ndarray
    fit: np.ndarray
    start_interest: np.ndarray


def draw_profiles(rng: np.random.Generator, n: int) -> Profiles:
    """Draw ``n`` independent lead profiles; the fit tier is the clipped sum of the attributes' fit points."""
    source = rng.choice(len(SOURCE_WEIGHTS), size=n, p=_normalised(SOURCE_WEIGHTS)).astype(np.int8)
    attributes: dict[str, np.ndarray] = {}
    fit = np.zeros(n, dtype=np.int64)
    for attribute in ATTRIBUTES:
        codes = rng.choice(len(attribute.values), size=n, p=_normalised(attribute.weights)).astype(np.int8)
        attributes[attribute.name] = codes
        fit += np.asarray(attribute.fit_points)[codes]
    bands = np.asarray(EMPLOYEE_BANDS, dtype=np.float64)[attributes["company_size"]]
    # Log-uniform within the band: small companies are more common than large ones within a band too.
    log_low, log_high = np.log(bands[:, 0]), np.log(bands[:, 1] + 1.0)
    employees = np.floor(np.exp(log_low + rng.random(n) * (log_high - log_low)))
    employees = np.clip(employees, bands[:, 0], bands[:, 1])
    start_interest = rng.poisson(np.asarray(SOURCE_START_INTEREST)[source])
    return Profiles(
        source=source,
        attributes=attributes,
        employees=employees,
        fit=np.clip(fit, 0, FIT_TIERS - 1).astype(np.int8),
        start_interest=np.minimum(start_interest, INTEREST_LEVELS - 1).astype(np.int64),
    )


def _normalised(weights: tuple[float, ...]) -> np.ndarray:
    array = np.asarray(weights, dtype=np.float64)
    return array / array.sum()
