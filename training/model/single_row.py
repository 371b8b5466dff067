"""LightGBM's single-row fast prediction for the API's few-row calls.

``Booster.predict`` costs about 60-70 us of Python per call before the trees run: it builds a predictor
object, checks and converts the matrix and parses parameters. A single-lead answer calls the trees two or
three times (contributions at ``as_of``, the earlier look, the counterfactuals), so that overhead was a
large share of its CPU. LightGBM's C API has a path made for this:
``LGBM_BoosterPredictForMatSingleRowFastInit`` prepares the prediction once (type, iterations,
parameters), and ``LGBM_BoosterPredictForMatSingleRowFast`` then scores one row with almost no overhead,
with the same code and so the same numbers as ``predict`` (tests compare them exactly).

A prepared handle keeps buffers, so it must not be shared by two threads at once: each thread gets its
own (``threading.local``), and all are freed with the predictor. Where the C API is not there (a LightGBM
without it), ``SingleRowPredictor.create`` returns None and callers use ``Booster.predict``.
"""

from __future__ import annotations

import ctypes
import threading
import weakref
from typing import Any

import lightgbm as lgb
import numpy as np

#: LightGBM's C_API_PREDICT_* constants (c_api.h).
RAW_SCORE, CONTRIBUTIONS = 1, 3
#: Up to this many rows, a call loops over single rows (~10 us each) instead of one ``predict`` (~70 us).
MAX_ROWS = 8

try:  # LightGBM's own loaded library and error check; private names, so checked, never assumed
    from lightgbm.basic import _LIB, _safe_call

    _AVAILABLE = hasattr(_LIB, "LGBM_BoosterPredictForMatSingleRowFastInit")
except ImportError:  # pragma: no cover - depends on the installed LightGBM
    _AVAILABLE = False


class SingleRowPredictor:
    """Raw scores and contributions of a few rows through LightGBM's single-row fast path."""

    def __init__(self, booster: lgb.Booster, n_iterations: int, n_features: int) -> None:
        self.booster = booster
        self._n_iterations = int(n_iterations)
        self._n_features = int(n_features)
        self._local = threading.local()
        self._handles: list[ctypes.c_void_p] = []
        self._lock = threading.Lock()
        weakref.finalize(self, _free, self._handles)

    @classmethod
    def create(cls, booster: lgb.Booster, n_iterations: int, n_features: int) -> SingleRowPredictor | None:
        """A predictor for ``booster``, or None when this LightGBM lacks the fast single-row API."""
        if not _AVAILABLE:
            return None
        return cls(booster, n_iterations, n_features)

    def raw(self, matrix: np.ndarray) -> np.ndarray:
        """The trees' margin per row, as ``predict(raw_score=True)``."""
        return self._predict(matrix, RAW_SCORE, 1).reshape(len(matrix))

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Per-feature contributions plus the base value per row, as ``predict(pred_contrib=True)``."""
        return self._predict(matrix, CONTRIBUTIONS, self._n_features + 1)

    def _predict(self, matrix: np.ndarray, kind: int, width: int) -> np.ndarray:
        handle = self._handle(kind)
        rows = np.ascontiguousarray(matrix, dtype=np.float64)
        out = np.empty((len(rows), width), dtype=np.float64)
        written = ctypes.c_int64()
        written_ref = ctypes.byref(written)
        # Row addresses by arithmetic on the two C-contiguous buffers: ``rows[i].ctypes.data_as`` built
        # three Python objects per row, a visible share of a single-lead answer.
        row_address, row_stride = rows.ctypes.data, rows.strides[0]
        out_address, out_stride = out.ctypes.data, out.strides[0]
        predict = _LIB.LGBM_BoosterPredictForMatSingleRowFast
        for i in range(len(rows)):
            _safe_call(
                predict(
                    handle,
                    ctypes.c_void_p(row_address + i * row_stride),
                    written_ref,
                    ctypes.c_void_p(out_address + i * out_stride),
                )
            )
        return out

    def _handle(self, kind: int) -> ctypes.c_void_p:
        handles: dict[int, ctypes.c_void_p] | None = getattr(self._local, "handles", None)
        if handles is None:
            handles = self._local.handles = {}
        handle = handles.get(kind)
        if handle is None:
            handle = ctypes.c_void_p()
            _safe_call(
                _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                    self.booster._handle,
                    ctypes.c_int(kind),
                    ctypes.c_int(0),  # start iteration
                    ctypes.c_int(self._n_iterations),
                    ctypes.c_int(1),  # C_API_DTYPE_FLOAT64
                    ctypes.c_int32(self._n_features),
                    ctypes.c_char_p(b"num_threads=1"),
                    ctypes.byref(handle),
                )
            )
            with self._lock:
                self._handles.append(handle)
            handles[kind] = handle
        return handle


def _free(handles: list[Any]) -> None:
    for handle in handles:
        _LIB.LGBM_FastConfigFree(handle)
    handles.clear()
