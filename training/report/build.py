"""The marketing report: what drives readiness, in one self-contained HTML page.

``build_report`` computes the numbers (``training.report.data``) and renders them
(``training.report.render``, template ``training/templates/report.html.j2``, figures from
``training.report.plots``); ``write_report`` saves the page. The page embeds its plots as PNG data
URIs and loads nothing from elsewhere, so it opens offline in any browser, can be logged to MLflow
with the model (``ModelBundle.report_html``) and is served as is by the API (``GET /report``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from training.bundle import ModelBundle
from training.data.contract import LeadDataset
from training.pipeline import StageCallback, TrainingOutcome
from training.report.data import assemble_report_data
from training.report.render import SECTION_IDS, render_report

REPORT_FILE = "report.html"

__all__ = ["REPORT_FILE", "SECTION_IDS", "build_report", "write_report"]


def build_report(
    bundle: ModelBundle,
    dataset: LeadDataset,
    *,
    outcome: TrainingOutcome | None = None,
    ground_truth: pd.DataFrame | None = None,
    on_stage: StageCallback | None = None,
) -> str:
    """The report for ``bundle`` as a self-contained HTML page.

    With ``outcome`` (right after ``fit_and_evaluate``) it reuses the run's test snapshots and scores;
    without, it rebuilds the test period from the model card (training config and split) on ``dataset``,
    which must be the data the model was trained on, and scores the model and its baselines again.
    ``ground_truth`` (the simulator's) adds the best achievable ROC-AUC for comparison.
    """
    data = assemble_report_data(
        bundle, dataset, outcome=outcome, ground_truth=ground_truth, on_stage=on_stage
    )
    if on_stage is not None:
        on_stage("report: drawing the plots and writing the page")
    return render_report(data)


def write_report(html: str, out_dir: Path) -> Path:
    """Write ``html`` to ``out_dir/report.html`` atomically (``out_dir`` is created); return the path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / REPORT_FILE
    # A temporary file in the same directory, renamed over the target: readers never see half a page.
    handle, tmp_name = tempfile.mkstemp(prefix=f".{REPORT_FILE}.", suffix=".tmp", dir=out_dir)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as tmp:
            tmp.write(html)
        # mkstemp makes the file owner-only; a report is for sharing: the permissions the umask gives.
        os.chmod(tmp_name, 0o666 & ~_umask())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
