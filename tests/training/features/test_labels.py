"""Labels on their own: won within (cutoff, cutoff + horizon], censoring at the end of observation, a close
after observed_until not trusted, row-order labels."""

from __future__ import annotations

import numpy as np

from training.features.labels import horizon_labels, known_closes, row_order_labels
from training.features.timestamps import DAY_NS, NAT_NS

HORIZON = 90 * DAY_NS
END = 400 * DAY_NS


def test_won_within_the_horizon_after_the_cutoff() -> None:
    cutoff = np.array([0, 0, 0, 100, 350]) * DAY_NS
    closed_at = np.array([90, 91, 0, 150, 380]) * DAY_NS
    closed = np.array([True, True, True, True, False])
    won = np.array([True, True, True, False, True])
    label, censored = horizon_labels(cutoff, closed, closed_at, won, HORIZON, END)
    # At the horizon's end counts, one day later does not; a close at the cutoff itself is not after it.
    assert label.tolist() == [1, 0, 0, 0, 0]
    # Only the open lead whose horizon runs past the end of observation is censored.
    assert censored.tolist() == [False, False, False, False, True]


def test_a_close_after_the_end_of_observation_is_not_known() -> None:
    status = np.array(["won", "won", "lost", "open"], dtype=object)
    closed = np.array([10 * DAY_NS, END + DAY_NS, 20 * DAY_NS, NAT_NS])
    usable = np.array([True, True, False, True])
    is_won, close_known = known_closes(usable, status, closed, END)
    assert is_won.tolist() == [True, True, False, False]
    assert close_known.tolist() == [True, False, False, False]


def test_row_order_labels_censor_open_leads() -> None:
    known, label = row_order_labels(np.array(["won", "open", "lost", "won"], dtype=object))
    assert known.tolist() == [True, False, True, True]
    assert label.tolist() == [1, 0, 1]
