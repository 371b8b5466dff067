"""The draft of a HubSpot export pulled through its API: property names run together
(``hs_lifecyclestage_marketingqualifiedlead_date``), times are Unix epoch milliseconds with a few ``0``
written for "none", the score is HubSpot's own, and the engagement log mixes the contact's actions with
HubSpot's bookkeeping (``LIST_MEMBERSHIP_ADDED``, ``PROPERTY_CHANGE``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from training.data.draft import draft_mapping

DAY_MS = 86_400_000
START_MS = 1_704_067_200_000  # 2024-01-01
STAGES = ["lead", "marketingqualifiedlead", "salesqualifiedlead", "customer", "evangelist", "other"]


def _export(root: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(5)
    n = 300
    created = START_MS + rng.integers(0, 300, n) * DAY_MS
    stage = [STAGES[i % len(STAGES)] for i in range(n)]
    reached = {s: STAGES.index(s) for s in STAGES}

    def date_if(level: int) -> list[str]:
        """The stage date of ``level`` (1 MQL, 2 SQL, 3 customer) for contacts that reached it ("other"
        reached none; an evangelist is past customer)."""
        return [
            str(c + (10 + 10 * level) * DAY_MS) if s != "other" and level <= reached[s] else ""
            for c, s in zip(created, stage, strict=True)
        ]

    contacts = pd.DataFrame(
        {
            "hs_object_id": np.arange(5001, 5001 + n),
            "createdate": created.astype(str),
            "lifecyclestage": stage,
            "hs_lifecyclestage_marketingqualifiedlead_date": date_if(1),
            "hs_lifecyclestage_salesqualifiedlead_date": date_if(2),
            "hs_lifecyclestage_customer_date": date_if(3),
            "lastmodifieddate": (created + 200 * DAY_MS).astype(str),
            "hubspotscore": rng.integers(0, 100, n),
            "company": [f"Company {i}" for i in rng.integers(0, 120, n)],
            "industry": rng.choice(["Software", "Retail", "Energy"], n),
        }
    )
    contacts_path = root / "contacts.csv"
    contacts.to_csv(contacts_path, index=False)
    rows = 3000
    times = START_MS + rng.integers(0, 320, rows) * DAY_MS + rng.integers(0, DAY_MS, rows)
    times[:20] = 0  # HubSpot writes 0 for "no time"
    engagements = pd.DataFrame(
        {
            "contact_id": rng.integers(5001, 5001 + n, rows),
            "timestamp": times.astype(str),
            "type": rng.choice(["PAGE_VIEW", "EMAIL_OPEN", "LIST_MEMBERSHIP_ADDED", "PROPERTY_CHANGE"], rows),
        }
    )
    engagements_path = root / "engagements.csv"
    engagements.to_csv(engagements_path, index=False)
    return contacts_path, engagements_path


def test_a_hubspot_api_export_is_drafted_with_its_milestones_score_and_bookkeeping(tmp_path: Path) -> None:
    contacts, engagements = _export(tmp_path)
    draft = draft_mapping(contacts, tmp_path / "crm.toml", events_path=engagements)
    roles = {role.column: role for role in draft.roles}
    assert roles["hs_lifecyclestage_marketingqualifiedlead_date"].role == "handed_over_at"
    assert roles["hs_lifecyclestage_salesqualifiedlead_date"].role == "accepted_at"
    assert roles["hs_lifecyclestage_customer_date"].role == "closed_at"
    assert roles["hubspotscore"].known_at == "after_contact"  # HubSpot's own score: never a feature
    assert roles["company"].role == "drop" and "organisations' names" in roles["company"].why
    assert draft.events is not None and draft.events.date_format == "epoch_ms"  # twenty 0s do not hide it
    assert draft.events.kinds is not None
    assert set(draft.events.kinds.skip) == {"LIST_MEMBERSHIP_ADDED", "PROPERTY_CHANGE"}
    assert '"evangelist" = "won"' in draft.text
    # HubSpot keeps no lost date: the to-do offers the last change as one.
    lost = next(todo for todo in draft.todos if "reads as lost" in todo)
    assert "closed_at_fallback = 'lastmodifieddate'" in lost
