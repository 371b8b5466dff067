"""The draft of a marketing system's activity log (``training.data.draft.event_kinds``): its bookkeeping
and stage changes go to ``skip_types``, and where a detail column says what a generic event was about,
the requests for contact and the pricing pages among its values become ``[events.detail_types]``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.training.data.test_mapping import _write
from training.data.draft import draft_mapping
from training.data.io import load_dataset
from training.data.mapping import import_export

LEADS = "Id,Created At,Revenue Stage,Customer Date\n" + "\n".join(
    f"{i},2025-01-{i % 27 + 1:02d}T09:00:00Z,{['Known', 'Customer'][i % 2]},"
    + ("2025-03-01T10:00:00Z" if i % 2 else "")
    for i in range(1, 41)
)
ACTIVITY_KINDS = [
    ("Visit Webpage", "/pricing"),
    ("Visit Webpage", "/blog/pricing-strategies"),  # a post about pricing is no visit to the prices
    ("Fill Out Form", "Demo Request"),
    ("Fill Out Form", "Newsletter Signup"),
    ("Click Email", "Spring Newsletter"),
    ("Change Score", "+10"),
    ("Email Delivered", "Spring Newsletter"),
    ("Change Revenue Stage", "MQL"),
]


def _activities() -> str:
    rows = [
        f"{lead},2025-02-{k % 27 + 1:02d}T10:{k % 60:02d}:00Z,{kind},{detail}"
        for lead in range(1, 41)
        for k, (kind, detail) in enumerate(ACTIVITY_KINDS)
        if (lead + k) % 3
    ]
    return "leadId,activityDate,Activity Type Name,primaryAttributeValue\n" + "\n".join(rows)


def test_bookkeeping_and_stage_changes_are_skipped_and_details_typed(tmp_path: Path) -> None:
    leads = _write(tmp_path / "leads.csv", LEADS)
    activities = _write(tmp_path / "activities.csv", _activities())
    draft = draft_mapping(leads, tmp_path / "crm.toml", events_path=activities)
    kinds = draft.events.kinds if draft.events is not None else None
    assert kinds is not None
    assert set(kinds.skip) == {"Change Score", "Email Delivered", "Change Revenue Stage"}
    assert "follows the outcome" in kinds.skip["Change Revenue Stage"]
    assert kinds.detail_column == "primaryAttributeValue"
    assert kinds.detail_types == {
        "Fill Out Form | Demo Request": "demo_request",
        "Visit Webpage | */pricing": "pricing_page_view",
        "Visit Webpage | */pricing[/?#]*": "pricing_page_view",
    }
    text = draft.text
    assert "[events.detail_types]" in text and 'detail_column = "primaryAttributeValue"' in text
    (tmp_path / "crm.toml").write_text(text)
    import_export(tmp_path / "crm.toml", tmp_path / "out", mode="strict")
    dataset, _ = load_dataset(tmp_path / "out")
    types = set(dataset.events["event_type"])
    assert {"pricing_page_view", "demo_request", "Visit Webpage", "Fill Out Form"} <= types
    assert not types & {"Change Score", "Email Delivered", "Change Revenue Stage"}
    assert set(dataset.metadata.skipped_event_types) == {
        "Change Score",
        "Email Delivered",
        "Change Revenue Stage",
    }


def test_a_log_without_bookkeeping_or_details_drafts_neither(tmp_path: Path) -> None:
    leads = _write(tmp_path / "leads.csv", LEADS)
    plain = pd.DataFrame(
        {
            "leadId": [1, 2, 3, 4] * 5,
            "activityDate": [f"2025-02-{d:02d}T10:00:00Z" for d in range(1, 21)],
            "Type": ["Page View", "Email Open", "Webinar Attended", "Demo Requested"] * 5,
        }
    )
    activities = tmp_path / "activities.csv"
    plain.to_csv(activities, index=False)
    draft = draft_mapping(leads, tmp_path / "crm.toml", events_path=activities)
    assert draft.events is not None and draft.events.kinds is not None
    assert draft.events.kinds.skip == {} and draft.events.kinds.detail_column is None
    assert "skip_types" not in draft.text and "detail_types" not in draft.text


def test_events_before_their_lead_s_creation_are_drafted_to_count_at_it(tmp_path: Path) -> None:
    leads = _write(tmp_path / "leads.csv", LEADS)
    # Two visits of lead 1 and one of lead 2 a day before they were created; the rest after.
    early = [f"{lead},2025-01-{lead % 27:02d}T08:00:00Z,Visit Webpage,/pricing" for lead in (28, 28, 29)]
    activities = _write(tmp_path / "activities.csv", _activities() + "\n" + "\n".join(early))
    draft = draft_mapping(leads, tmp_path / "crm.toml", events_path=activities)
    assert draft.events is not None and draft.events.early[0] == 3
    assert 'before_created = "creation"   # 3 of ' in draft.text
    (tmp_path / "crm.toml").write_text(draft.text)
    summary = import_export(tmp_path / "crm.toml", tmp_path / "out", mode="strict")
    assert summary.rejects == 0  # type: ignore[attr-defined]
