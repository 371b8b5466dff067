"""``LayoutCached``: fitted estimators that keep a per-call layout (which column goes where) cached, and
check that they are fitted cheaply.

Working out where each feature goes takes a few hundred microseconds; serving would pay it on every
request. The layout is derived from fitted attributes only, so it is cached on first use, rebuilt when
the estimator is refitted (its names object changes), and never pickled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sklearn.exceptions import NotFittedError

LayoutT = TypeVar("LayoutT")
_CACHE = "_layout_cache"
#: Other per-process caches derived from fitted attributes (e.g. ``ReadinessModel``'s single-row
#: predictor, which holds C handles): rebuilt on first use, never pickled.
TRANSIENT = "_transient_cache"
#: ``ReadinessModel``'s per-tree group-sum tables (``training.model.tree_groups``): rebuilt, never pickled.
TRANSIENT_GROUP_SUMS = "_group_sums_cache"


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

    def require_fitted(self, attribute: str) -> None:
        """Raise scikit-learn's ``NotFittedError`` unless ``attribute`` is set. ``check_is_fitted`` reads
        the estimator's tags on every call (~50 us each, several per single-lead request); serving
        checks on every call, so it needs a plain attribute lookup."""
        if not hasattr(self, attribute):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with appropriate "
                "arguments before using this estimator."
            )

    def __getstate__(self) -> dict[str, Any]:
        parent: Callable[[], dict[str, Any]] = super().__getstate__  # type: ignore[assignment]
        state = dict(parent())
        state.pop(_CACHE, None)
        state.pop(TRANSIENT, None)
        state.pop(TRANSIENT_GROUP_SUMS, None)
        return state
