"""The Spark job's script for ``spark-submit``: ``leadripe train`` with the Spark engine.

``spark-submit [options] training/spark/train_job.py --data PATH [--config FILE] ...`` takes the same
options as ``leadripe train`` (``--engine spark`` is implied); the driver logs to the MLflow tracking
server named by ``MLFLOW_TRACKING_URI``. See ``training.spark.source`` for what runs where.
"""

from __future__ import annotations

import sys

import typer

from training.cli import train


def main(argv: list[str] | None = None) -> None:
    """Run ``leadripe train --engine spark`` with ``argv`` (default: the command line)."""
    args = list(sys.argv[1:] if argv is None else argv)
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(train)
    app([*args, "--engine", "spark"])


if __name__ == "__main__":
    main()
