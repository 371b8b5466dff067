"""The Spark job's script for ``spark-submit``: ``leadripe score`` with the Spark engine.

``spark-submit [options] serving/batch/spark_job.py --data PATH --out PATH --model URI ...`` takes the
same options as ``leadripe score`` (``--engine spark`` is implied); see ``serving.batch.spark``.
"""

from __future__ import annotations

import sys

import typer

from serving.batch.command import score


def main(argv: list[str] | None = None) -> None:
    """Run ``leadripe score --engine spark`` with ``argv`` (default: the command line)."""
    args = list(sys.argv[1:] if argv is None else argv)
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(score)
    app([*args, "--engine", "spark"])


if __name__ == "__main__":
    main()
