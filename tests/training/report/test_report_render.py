"""The report renders in a real browser: headless Chromium loads it offline and every section shows its plots.

Needs Debian's ``chromium`` package (CI installs it); skipped with a reason when no Chromium is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.config import TrainConfig
from training.pipeline import fit_and_evaluate
from training.report.build import SECTION_IDS, write_report
from training.report.data import assemble_report_data
from training.report.render import render_report
from training.simulation.simulator import simulate

CHROMIUM = next((path for name in ("chromium", "chromium-browser") if (path := shutil.which(name))), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install -y chromium)"
)

SECTIONS_WITH_PLOTS = {
    "importances": 1,
    "signals": 1,
    "effects": 1,
    "ripening": 1,
    "quality": 3,
    "backtest": 1,
}
# Injected into a copy of the report: after every image has loaded, write what rendered into the DOM.
RENDER_CHECK = """<script>
window.addEventListener("load", function () {
  var result = {};
  document.querySelectorAll("section[id]").forEach(function (section) {
    var images = Array.prototype.slice.call(section.querySelectorAll("img"));
    result[section.id] = {
      images: images.length,
      rendered: images.filter(function (img) { return img.complete && img.naturalWidth > 0; }).length,
      height: section.getBoundingClientRect().height
    };
  });
  var marker = document.createElement("pre");
  marker.id = "render-check";
  marker.textContent = JSON.stringify(result);
  document.body.appendChild(marker);
});
</script>"""


def chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium, offline and with a throw-away profile (no network, no updates, no sync)."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        *arguments,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def report_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    simulation = simulate(1200, seed=11)
    # A small simulation keeps the test fast; it has fewer than the default 40 won leads per side.
    config = TrainConfig(
        n_bootstrap=20,
        max_snapshots_per_lead=20,
        model={"n_estimators": 150},
        min_positives=10,
        min_negatives=10,
    )
    outcome = fit_and_evaluate(simulation.dataset, config)
    data = assemble_report_data(
        outcome.bundle,
        simulation.dataset,
        outcome=outcome,
        max_importance_rows=1000,
        max_contribution_rows=1500,
    )
    return write_report(render_report(data), tmp_path_factory.mktemp("report"))


def test_every_section_renders_with_its_plots_in_chromium(report_path: Path, tmp_path: Path) -> None:
    checked = tmp_path / "checked.html"
    checked.write_text(report_path.read_text(encoding="utf-8").replace("</body>", RENDER_CHECK + "</body>"))
    result = chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", checked.as_uri())
    match = re.search(r'<pre id="render-check">(.*?)</pre>', result.stdout)
    assert match, f"Chromium did not run the render check (exit {result.returncode}): {result.stderr[-2000:]}"
    rendered = json.loads(match.group(1).replace("&quot;", '"'))
    assert list(rendered) == list(SECTION_IDS)
    for section_id, facts in rendered.items():
        assert facts["height"] > 50, f"section {section_id!r} is (nearly) empty on screen"
        assert facts["rendered"] == facts["images"], f"section {section_id!r}: an image failed to render"
    for section_id, count in SECTIONS_WITH_PLOTS.items():
        assert rendered[section_id]["images"] == count, f"section {section_id!r} lacks a plot"


def test_screenshot_shows_the_report(report_path: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    result = chromium(tmp_path, "--window-size=1280,2400", f"--screenshot={shot}", report_path.as_uri())
    assert shot.exists(), f"no screenshot (exit {result.returncode}): {result.stderr[-2000:]}"
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (2400, 1280)
    # A rendered page has text and plots: many distinct grey levels, not a blank or single-colour image.
    assert pixels.std() > 10 and len(np.unique(pixels)) > 50
