"""The API's OpenAPI schema fuzzed by Schemathesis with all its checks.

Bounded examples per operation keep the suite fast; ``make fuzz`` runs the same test with many more
(``LEADRIPE_FUZZ_EXAMPLES``). Valid-by-schema data must be accepted, except where a rule spans several
fields or depends on the served model, which OpenAPI cannot express; each such rule is listed below
with its reason, and a 422 is accepted for generated valid data only when every error is one of them.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from schemathesis.specs.openapi.checks import positive_data_acceptance

from serving.app import create_app
from serving.model_holder import LoadedModel, ModelHolder
from serving.scorer import LeadScorer
from serving.settings import Settings
from training.bundle import ModelBundle

KEY = "fuzz-key"
EXAMPLES = int(os.environ.get("LEADRIPE_FUZZ_EXAMPLES", "15"))

#: (field the error names, words of its message, why OpenAPI cannot say it).
CROSS_FIELD_RULES: list[tuple[str, str, str]] = [
    ("as_of", "is before", "as_of >= created_at compares two fields (the schema says it in words)"),
    ("created_at", "is before created_at", "a batch's as_of >= each lead's created_at: two levels"),
    ("", "outside the supported time range", "date-time has no minimum/maximum in JSON Schema"),
    ("", "must be a number", "which profile fields are numeric depends on the served model"),
    ("leads", "leads per batch", "the batch limit is a setting (LEADRIPE_MAX_BATCH_SIZE)"),
]


# The app is built at import (Schemathesis reads its schema then), the model loaded by a fixture:
# collecting this module must not train anything.
_bundles: list[ModelBundle] = []
holder = ModelHolder(
    lambda: LoadedModel(
        LeadScorer(_bundles[-1], version="7", source="memory"), "memory", datetime.now(UTC), "7"
    )
)
app = create_app(Settings(api_key=SecretStr(KEY), max_batch_size=20), holder)


async def without_lifespan(scope: Any, receive: Any, send: Any) -> None:
    """The app, answering lifespan events itself: the ASGI transport starts and stops it per request,
    and a stopped app has shut its scoring thread down."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await app(scope, receive, send)


schema = schemathesis.openapi.from_asgi("/openapi.json", without_lifespan)
# The API ignores query parameters it does not declare (as FastAPI does); Schemathesis would count each
# such request as accepted negative data, now and then (only when it draws an extra parameter). Whether
# to refuse unknown parameters is an open product decision, not something this test should flip on.
schema.config.generation.update(allow_extra_parameters=False)


@pytest.fixture(scope="module", autouse=True)
def served_model(small_bundle: ModelBundle) -> None:
    """A real model (with a report, so /report answers 200) in the fuzzed app."""
    _bundles.append(dataclasses.replace(small_bundle, report_html="<html><body>report</body></html>"))
    holder.reload()


def _explained(error: dict[str, Any]) -> bool:
    loc = [str(part) for part in error.get("loc", [])]
    return any(
        (not field or field in loc) and words in error.get("msg", "") for field, words, _ in CROSS_FIELD_RULES
    )


@schemathesis.check
def positive_data_accepted_except_cross_field_rules(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis' positive_data_acceptance, allowing a 422 whose every error is a listed rule."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code < 400:
        return None
    if response.status_code == 422:
        errors = response.json().get("detail", [])
        if errors and all(_explained(error) for error in errors):
            return None
    if response.status_code in (401, 403, 413, 503):  # not about the data
        return None
    raise AssertionError(f"valid data refused with {response.status_code}: {response.text[:300]}")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_conforms_to_its_openapi_schema(case: Any) -> None:
    case.call_and_validate(
        headers={"X-API-Key": KEY},
        excluded_checks=[positive_data_acceptance],
        additional_checks=[positive_data_accepted_except_cross_field_rules],
    )


@pytest.mark.parametrize(("field", "words", "reason"), CROSS_FIELD_RULES)
def test_every_listed_exception_has_a_reason(field: str, words: str, reason: str) -> None:
    assert words and len(reason) > 20
