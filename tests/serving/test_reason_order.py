"""A reason is listed on the side its signal moves the score as a whole (serving.reason_order): one event
type's 7-day count raising the score beside its 30-day count lowering it read as a contradiction."""

from __future__ import annotations

import numpy as np

from serving.reason_order import listable, signal_codes


def test_contributions_against_their_signal_s_net_are_never_listed() -> None:
    codes = signal_codes(["form", "form", "form", "industry", "engagement", "engagement"])
    assert codes.tolist() == [0, 0, 0, 1, 2, 2]
    contributions = np.array(
        [
            [0.50, -0.20, 0.10, -0.30, 0.05, -0.05],  # form nets +0.40; engagement nets exactly 0
            [-0.50, 0.20, 0.00, 0.40, -0.10, 0.30],  # form nets -0.30; engagement nets +0.20
        ]
    )
    on_side = listable(contributions, codes)
    assert on_side.tolist() == [
        [0.50, 0.0, 0.10, -0.30, 0.0, 0.0],
        [-0.50, 0.0, 0.0, 0.40, 0.0, 0.30],
    ]
    # What is left out is exactly what pulls against its signal: the rows still add up.
    np.testing.assert_allclose((contributions - on_side).sum(axis=1), [-0.20 + 0.05 - 0.05, 0.20 - 0.10])
