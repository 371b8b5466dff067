"""Which contributions may be listed as reasons: those that agree with their signal's net effect.

One signal (an event type, overall engagement) feeds several features: a count in 30 days, a decayed
count, days since the last one, a trend. The trees combine them, so one of a signal's features can
raise the score while another lowers it. Listed side by side ("1 'Fill Out Form' event in the last 7
days ... raises the score" beside "2 'Fill Out Form' events in the last 30 days ... lowers the score")
the answer reads as a contradiction, and new users took it for one. A reason is listed on the side its
signal moves the score as a whole (the report's signal shares are netted the same way); the parts that
pull against it stay in ``other_contributions``, so base value plus contributions still add up exactly.
"""

from __future__ import annotations

import numpy as np


def signal_codes(signals: list[str]) -> np.ndarray:
    """Each feature's signal as a code (features of one signal share it), in feature order."""
    codes: dict[str, int] = {}
    return np.array([codes.setdefault(signal, len(codes)) for signal in signals], dtype=np.int64)


def listable(contributions: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``contributions`` (``(n, n_features)``) with those whose sign is against their signal's net sum
    set to 0: ranked as reasons, the rest are never listed."""
    n_signals = int(codes.max()) + 1 if codes.size else 0
    one_hot = np.zeros((codes.size, n_signals))
    one_hot[np.arange(codes.size), codes] = 1.0
    net = contributions @ one_hot  # (n, n_signals): each signal's net contribution per row
    agrees = np.sign(contributions) == np.sign(net[:, codes])
    return np.where(agrees, contributions, 0.0)
