"""Event types refined by a detail column and types left out (``training.data.event_types``): Marketo logs
"Visit Webpage" for a pricing page and a blog post alike, and its own bookkeeping ("Change Score") beside
what the lead did. The import types and skips them as the mapping says, and the model card carries both
to the API (tested in tests/serving/test_event_naming.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from tests.training.data.test_mapping import _write
from training.data.event_types import EventNaming, detail_rules, refined_types
from training.data.io import load_dataset
from training.data.mapping import MappingConfigError, import_export

RULES = {
    "Visit Webpage | */pricing*": "pricing_page_view",
    "Fill Out Form | Demo Request": "demo_request",
    "*webinar*": "webinar_registered",
}


def test_rules_match_type_and_detail_case_insensitively_and_the_first_wins() -> None:
    rules = detail_rules(RULES)
    assert [(r.type_pattern, r.detail_pattern) for r in rules][:2] == [
        ("visit webpage", "*/pricing*"),
        ("fill out form", "demo request"),
    ]
    types = pd.Series(
        ["Visit Webpage", "Visit Webpage", "Fill Out Form", "Fill Out Form", "Click Email", None]
    )
    details = pd.Series(
        ["https://x.io/PRICING/", "/blog/a", "demo request", "Newsletter", "Webinar invite", "x"]
    )
    refined = refined_types(types, details, rules)
    assert refined.tolist()[:5] == ["pricing_page_view", None, "demo_request", None, "webinar_registered"]
    assert pd.isna(refined.iloc[5])  # no type: nothing to refine


def test_the_api_naming_renames_refines_and_folds_case() -> None:
    naming = EventNaming({"Solicitud de demo": "demo_request"}, RULES, known=["Demo Requested", "site_visit"])
    assert naming.name("Solicitud de demo") == "demo_request"
    assert naming.name("Visit Webpage", "/pricing") == "pricing_page_view"
    assert naming.name("Visit Webpage", "/blog") == "Visit Webpage"  # no rule: left as sent (unknown)
    assert naming.name("demo requested") == "Demo Requested"  # case, as the hand-raiser check reads it
    assert naming.name("Site Visit") == "site_visit"
    assert naming.names(["Visit Webpage", "Visit Webpage"], ["/pricing", None]) == [
        "pricing_page_view",
        "Visit Webpage",
    ]


LEADS = """
Id,Created At,Revenue Stage,Customer Date
1,2025-01-02T09:00:00Z,Customer,2025-03-01T10:00:00Z
2,2025-01-05T09:00:00Z,Known,
"""
ACTIVITIES = """
leadId,activityDate,Activity Type Name,primaryAttributeValue
1,2025-01-03T10:00:00Z,Visit Webpage,/pricing
1,2025-01-03T10:05:00Z,Visit Webpage,/blog/ten-tips
1,2025-01-04T10:00:00Z,Fill Out Form,Demo Request
1,2025-01-04T10:01:00Z,Change Score,+10
1,2025-01-04T10:02:00Z,Change Revenue Stage,MQL
2,2025-01-06T10:00:00Z,Fill Out Form,Newsletter Signup
2,2025-01-06T10:01:00Z,Change Score,+5
"""
MAPPING = """
name = "marketo"
root = "."

[leads]
file = "leads.csv"
lead_id = "Id"
created_at = "Created At"

[outcome]
status_column = "Revenue Stage"
status_values = {{ Customer = "won", Known = "open" }}
closed_at = "Customer Date"

[events]
file = "activities.csv"
lead_id = "leadId"
occurred_at = "activityDate"
event_type_column = "Activity Type Name"
event_type_values = {{ "Visit Webpage" = "page_view" }}
{keys}

[events.detail_types]
"Visit Webpage | */pricing*" = "pricing_page_view"
"Fill Out Form | Demo Request" = "demo_request"
"""


def _import(root: Path, keys: str) -> tuple[object, pd.DataFrame, object]:
    _write(root / "leads.csv", LEADS)
    _write(root / "activities.csv", ACTIVITIES)
    config = _write(root / "crm.toml", MAPPING.format(keys=keys))
    summary = import_export(config, root / "out", mode="strict")
    dataset, _ = load_dataset(root / "out")
    return summary, dataset.events.sort_values("occurred_at").reset_index(drop=True), dataset.metadata


def test_the_import_types_by_detail_and_leaves_out_the_skipped_types(tmp_path: Path) -> None:
    keys = 'detail_column = "primaryAttributeValue"\nskip_types = ["Change Score", "Change Revenue Stage"]'
    summary, events, metadata = _import(tmp_path, keys)
    assert events["event_type"].tolist() == [
        "pricing_page_view",
        "page_view",  # the blog post: the type as renamed
        "demo_request",
        "Fill Out Form",  # the newsletter: no rule matched
    ]
    warnings = " ".join(summary.warnings)  # type: ignore[attr-defined]
    assert "2 rows of activities.csv typed by 'primaryAttributeValue'" in warnings
    assert "3 of 7 rows of activities.csv left out by [events] skip_types: Change Score (2)" in warnings
    assert metadata.skipped_event_types == ["Change Score", "Change Revenue Stage"]  # type: ignore[attr-defined]
    assert list(metadata.event_detail_types) == [  # type: ignore[attr-defined]
        "Visit Webpage | */pricing*",
        "Fill Out Form | Demo Request",
    ]


def test_a_skip_type_may_name_the_renamed_type_and_a_typo_is_said(tmp_path: Path) -> None:
    keys = 'detail_column = "primaryAttributeValue"\nskip_types = ["page_view", "Change Scor"]'
    summary, events, _ = _import(tmp_path, keys)
    assert "page_view" not in set(events["event_type"]) and "pricing_page_view" in set(events["event_type"])
    assert "Change Score" in set(events["event_type"])
    assert "skip_types names types no row of activities.csv has: 'Change Scor'" in " ".join(
        summary.warnings  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ("", re.escape("set 'detail_column' and [events.detail_types] together")),
        ('detail_column = "No Such Column"', "No Such Column"),
    ],
)
def test_detail_keys_are_checked(tmp_path: Path, keys: str, message: str) -> None:
    _write(tmp_path / "leads.csv", LEADS)
    _write(tmp_path / "activities.csv", ACTIVITIES)
    config = _write(tmp_path / "crm.toml", MAPPING.format(keys=keys))
    with pytest.raises(MappingConfigError, match=message):
        import_export(config, tmp_path / "out", mode="strict")
