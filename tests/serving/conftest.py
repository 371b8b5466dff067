"""Fixtures shared by the serving tests: one small real model for the whole session."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from serving.logs import LOGGER_NAME, JsonFormatter
from training.bundle import ModelBundle


@pytest.fixture(scope="session")
def small_bundle() -> ModelBundle:
    """A real bundle trained on test_api's hand-made data (fewer leads: fast, still a real model)."""
    from test_api import make_dataset, train_bundle

    return train_bundle(make_dataset(n_leads=600))


@pytest.fixture
def api_logs() -> Iterator[list[str]]:
    """The API's log lines (as the JSON formatter writes them) while the test runs."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(JsonFormatter().format(record))

    handler = Collect()
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
