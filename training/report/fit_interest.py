"""The report's grid of leads by fit (A-D) and interest (1-4), with win rates, as template values."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

FIT_WORDS = {"A": "best fit", "B": "good fit", "C": "weaker fit", "D": "poor fit"}
INTEREST_WORDS = {1: "most engaged", 2: "engaged", 3: "little engaged", 4: "least engaged"}


def fit_interest_context(grid: pd.DataFrame | None, base_rate: float) -> dict[str, Any]:
    """``fit_interest_rows`` (per fit letter its four cells: win rate, looks, a background colour),
    the row and column words, and a sentence on what the grid shows."""
    if grid is None or grid.empty:
        return {
            "fit_interest_rows": None,
            "fit_interest_text": "",
            "fit_words": FIT_WORDS,
            "interest_words": INTEREST_WORDS,
        }
    highest = max((r for r in grid["win_rate"] if math.isfinite(r)), default=0.0) or 1.0
    rows = []
    for fit in ("A", "B", "C", "D"):
        cells = []
        for row in grid[grid["fit"] == fit].sort_values("interest").to_dict("records"):
            rate = float(row["win_rate"])
            known = math.isfinite(rate)
            # Green, deeper for higher win rates (relative to the best cell); grey where no lead fell.
            strength = rate / highest if known else 0.0
            colour = f"rgba(46, 155, 71, {0.08 + 0.62 * strength:.2f})" if known else "#f2f2f2"
            cells.append(
                {
                    "win_rate": f"{rate:.1%}" if known else "-",
                    "n": f"{int(row['n']):,}",
                    "colour": colour,
                }
            )
        rows.append((fit, cells))
    return {
        "fit_interest_rows": rows,
        "fit_interest_text": _text(grid, base_rate),
        "fit_words": FIT_WORDS,
        "interest_words": INTEREST_WORDS,
    }


def _text(grid: pd.DataFrame, base_rate: float) -> str:
    def rate(fits: str, interests: tuple[int, ...]) -> float:
        cells = grid[grid["fit"].isin(list(fits)) & grid["interest"].isin(interests)]
        n = cells["n"].sum()
        return float(cells["won"].sum() / n) if n else math.nan

    good_cold, poor_hot = rate("AB", (3, 4)), rate("CD", (1, 2))
    best, worst = rate("A", (1,)), rate("D", (4,))
    return (
        f"Best fit and most engaged (A1): {_pct(best)} won; poor fit and least engaged (D4): {_pct(worst)}; "
        f"all leads: {_pct(base_rate)}. Good fit, not engaged yet (A-B, 3-4): {_pct(good_cold)}: nurture "
        f"them. Engaged but a poor fit (C-D, 1-2): {_pct(poor_hot)}."
    )


def _pct(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.1%}"
