"""``LayoutCached``: fitted estimators that keep a per-call layout (which column goes where) cached.

Working out where each feature goes takes a few hundred microseconds; serving would pay it on every
request. The layout is derived from fitted attributes only, so it is cached on first use, rebuilt when
the estimator is refitted (its names object changes), and never pickled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

LayoutT = TypeVar("LayoutT")
_CACHE = "_layout_cache"


class LayoutCached:
    """Mixin (before ``BaseEstimator``): ``cached_layout`` and pickling without the cache."""

    def cached_layout(self, names: object, build: Callable[[], LayoutT]) -> LayoutT:
        """The cached layout if it was built for ``names`` (the very object), else ``build()``, cached.
        Layouts must hold the ``names`` they were built from as their ``names`` attribute."""
        layout = self.__dict__.get(_CACHE)
        if layout is None or layout.names is not names:
            layout = build()
            self.__dict__[_CACHE] = layout
        return layout

    def __getstate__(self) -> dict[str, Any]:
        parent: Callable[[], dict[str, Any]] = super().__getstate__  # type: ignore[assignment]
        state = dict(parent())
        state.pop(_CACHE, None)
        return state
