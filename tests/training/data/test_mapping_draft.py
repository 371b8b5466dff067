"""``leadripe draft-mapping``: a commented mapping drafted from an export's values and column names, that
imports as it stands where the values decide everything, keeps personal data and what sales or the
outcome write out of the features, and leaves what the values cannot decide to the user."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from training.cli import app
from training.data.draft import draft_mapping
from training.data.draft.roles import outcome_value, words
from training.data.io import load_dataset
from training.data.mapping import MappingConfigError, import_export, load_mapping

STAGES = ["Closed Won", "Closed Lost", "Negotiation", "Closed Lost", "Closed Lost"]


def _crm_export(path: Path, rows: int = 60) -> Path:
    """A CRM's lead report: every kind of column a real one has."""
    rng = np.random.default_rng(3)
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(rows) * 3, unit="D")
    stage = [STAGES[i % len(STAGES)] for i in range(rows)]
    closed = [
        "" if s == "Negotiation" else (c + pd.Timedelta(days=20)).strftime("%d/%m/%Y")
        for s, c in zip(stage, created, strict=True)
    ]
    frame = pd.DataFrame(
        {
            "Lead Number": [f"{1000 + i}" for i in range(rows)],
            "Email": [f"person{i}@example.com" for i in range(rows)],
            "Created On": created.strftime("%d/%m/%Y %H:%M"),
            "Lead Source": rng.choice(["Web", "Ads", "Partner"], rows),
            "Annual Revenue": [f"${v:,.2f}" for v in rng.uniform(1_000, 90_000, rows)],
            "Email Opens": rng.integers(0, 9, rows).astype(str),
            "Region Code": rng.integers(1, 5, rows).astype(str),
            "Lead Rating": rng.choice(["Hot", "Warm", "Cold"], rows),
            "Deal Amount": rng.integers(0, 5000, rows).astype(str),
            "Last Modified Date": (created + pd.Timedelta(days=40)).strftime("%Y-%m-%d"),
            "Stage": stage,
            "Closed On": closed,
            "Employees": [("N/A" if i % 7 == 0 else str(10 * (i % 9 + 1))) for i in range(rows)],
            "Email Opt Out": ["true" if i % 5 == 0 else "false" for i in range(rows)],
            "Demographic Score": rng.integers(0, 60, rows).astype(str),
            "Industry": [("-None-" if i % 6 == 0 else ["Retail", "Energy"][i % 2]) for i in range(rows)],
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def test_a_crm_export_is_drafted_with_reasons_and_imports_as_drafted(tmp_path: Path) -> None:
    export = _crm_export(tmp_path / "export" / "leads.csv")
    config = tmp_path / "config" / "crm.toml"
    draft = draft_mapping(export, config)
    roles = {role.column: role for role in draft.roles}
    assert roles["Lead Number"].role == "lead_id"
    assert roles["Created On"].role == "created_at" and roles["Closed On"].role == "closed_at"
    assert roles["Stage"].role == "status"
    assert {c for c, r in roles.items() if r.role == "drop"} == {"Email", "Deal Amount", "Last Modified Date"}
    assert roles["Lead Rating"].known_at == "after_contact"  # written by sales: never a feature
    # A consent flag is no personal data, and its state at export time may follow the outcome.
    assert (roles["Email Opt Out"].role, roles["Email Opt Out"].known_at) == ("categorical", "after_contact")
    assert roles["Email Opens"].role == "activity" and roles["Annual Revenue"].role == "numeric"
    # A score, not engagement: "demographic" is no "demo" (it was dropped beside an events file as a total).
    assert (roles["Demographic Score"].role, roles["Demographic Score"].known_at) == (
        "numeric",
        "after_contact",
    )
    assert "if they are codes, list it under categorical" in roles["Region Code"].why
    assert draft.todos == []
    text = draft.text
    assert 'file = "../export/leads.csv"' in text  # relative to the config's directory
    assert 'date_formats = { "Created On" = "day_first" }' in text
    assert 'thousands = ","' in text and 'units = ["$"]' in text and 'missing = ["-None-", "N/A"]' in text
    assert '"Closed Won" = "won"' in text and '"Negotiation" = "open"' in text
    assert '"Email",' in text and "# personal data" in text
    config.parent.mkdir(parents=True)
    config.write_text(text)
    load_mapping(config)
    summary = import_export(config, tmp_path / "d", mode="strict")
    assert summary.leads == 60 and summary.outcome_counts == {"won": 12, "lost": 36, "open": 12}
    leads = pd.read_parquet(tmp_path / "d" / "leads.parquet").set_index("lead_id")
    assert leads.loc["1003", "created_at"] == pd.Timestamp("2024-01-10", tz="UTC")
    assert "Email" not in leads.columns and "Deal Amount" not in leads.columns


def test_what_the_values_cannot_decide_is_left_as_a_to_do_the_import_refuses(tmp_path: Path) -> None:
    rows = "\n".join(
        f"L{i},{'yes' if i % 3 else 'no'},{'yes' if i % 2 else 'no'},0{i % 9 + 1}/0{i % 9 + 1}/2024"
        for i in range(30)
    )
    export = tmp_path / "leads.csv"
    export.write_text("Id,Newsletter,Subscribed,Signup\n" + rows + "\n")
    draft = draft_mapping(export, tmp_path / "crm.toml")
    assert any("every date of 'Signup' fits both day/month orders" in todo for todo in draft.todos)
    assert any("which column is the outcome? 'Newsletter', 'Subscribed'" in todo for todo in draft.todos)
    assert "# TO DO before importing" in draft.text and 'status_column = "TO DO"' in draft.text
    (tmp_path / "crm.toml").write_text(draft.text)
    with pytest.raises(MappingConfigError):
        import_export(tmp_path / "crm.toml", tmp_path / "d")


def test_an_export_without_dates_must_still_declare_its_row_order(tmp_path: Path) -> None:
    export = tmp_path / "shoppers.csv"
    export.write_text(
        "Visits,Month,Bought\n"
        + "\n".join(f"{i % 10},may,{'TRUE' if i % 4 == 0 else 'FALSE'}" for i in range(40))
        + "\n"
    )
    draft = draft_mapping(export, tmp_path / "crm.toml")
    roles = {role.column: role.role for role in draft.roles}
    assert roles == {"Visits": "activity", "Month": "drop", "Bought": "status"}  # "may" is no date
    assert any('set row_order = "oldest_first" or "newest_first"' in todo for todo in draft.todos)
    assert '# row_order = "oldest_first"   # TO DO' in draft.text
    assert 'lead_id = { generate = "row_number"' in draft.text
    (tmp_path / "crm.toml").write_text(draft.text)
    with pytest.raises(MappingConfigError, match="row_order"):
        import_export(tmp_path / "crm.toml", tmp_path / "d")


def test_an_activity_export_and_a_report_footer(tmp_path: Path) -> None:
    export = _crm_export(tmp_path / "leads.csv", rows=20)
    export.write_text(
        export.read_text() + '\n"Copyright (c) 2026 salesforce.com, inc."\n"Generated By: Jane Doe"\n'
    )
    events = tmp_path / "activities.csv"
    lines = [
        f"{1000 + i % 25},2024-04-{i % 28 + 1:02d} 10:00,{['Email Open', 'Webinar'][i % 2]}"
        for i in range(50)
    ]
    events.write_text("Contact,Activity Date,Activity Type\n" + "\n".join(lines) + "\n")
    draft = draft_mapping(export, tmp_path / "crm.toml", events_path=events)
    assert (
        "skip_footer = 2   # a report's footer, from 'Copyright (c) 2026 salesforce.com, inc.'" in draft.text
    )
    assert any(
        todo.startswith("leads.csv ends with 2 lines read as a report's footer") for todo in draft.todos
    )
    assert draft.events is not None
    assert (draft.events.lead_id, draft.events.occurred_at, draft.events.event_type_column) == (
        "Contact",
        "Activity Date",
        "Activity Type",
    )
    assert draft.events.unknown == 10  # ids 1020-1024 are no leads of the report
    assert 'unknown_leads = "skip"   # 10 of 50 rows: unknown leads' in draft.text
    (tmp_path / "crm.toml").write_text(draft.text)
    summary = import_export(tmp_path / "crm.toml", tmp_path / "d", mode="strict")
    assert summary.leads == 20 and summary.events == 40


def test_cli_writes_the_draft_and_keeps_an_existing_file(tmp_path: Path) -> None:
    export = _crm_export(tmp_path / "leads.csv")
    out = tmp_path / "crm.toml"
    result = CliRunner().invoke(app, ["draft-mapping", str(export), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (
        "Stage" in result.output
        and "status" in result.output
        and "leadripe import --mapping" in result.output
    )
    assert out.read_text().startswith("# Drafted by `leadripe draft-mapping` from leads.csv.")
    again = CliRunner().invoke(app, ["draft-mapping", str(export), "--out", str(out)])
    assert again.exit_code == 2 and "exists" in again.output and "--force" in again.output
    assert (
        CliRunner().invoke(app, ["draft-mapping", str(export), "--out", str(out), "--force"]).exit_code == 0
    )


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        ("Closed Won", "won"),
        ("Closed - Not Converted", "lost"),
        ("Closed - Converted", "won"),
        ("Unqualified", "lost"),
        ("Qualified", "open"),
        ("yes", "won"),
        ("0", "lost"),
        ("Negotiation", "open"),
        ("Closed - Not Won", "lost"),
        ("Not Won", "lost"),
        ("Non-customer", "lost"),
        ("Unpaid", "lost"),
        ("Unsubscribed", "lost"),
        ("Customer", "won"),
        ("Paid", "won"),
    ],
)
def test_stages_are_read_lost_first(value: str, outcome: str) -> None:
    assert outcome_value(value) == outcome


def test_names_are_read_as_words() -> None:
    assert words("LeadRating") == "lead rating" == words("lead_rating") == words(" Lead  Rating ")
    assert words("OperatingSystems") == "operating systems"  # no "rating" in it
    assert words("ProductRelated_Duration") == "product related duration"


def test_an_outcome_file_of_won_deals_or_of_stages(tmp_path: Path) -> None:
    leads = tmp_path / "mqls.csv"
    leads.write_text(
        "mql_id,first_contact,origin\n"
        + "\n".join(f"m{i},2024-01-{i % 28 + 1:02d},{['search', 'social'][i % 2]}" for i in range(40))
        + "\n"
    )
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "deal,mql_id,won_date,segment\n"
        + "\n".join(f"d{i},m{i * 4},2024-03-{i % 28 + 1:02d},{['pets', 'home'][i % 2]}" for i in range(10))
        + "\nd99,m99,2024-03-05,home\n"
    )
    draft = draft_mapping(leads, tmp_path / "crm.toml", outcomes_path=deals)
    assert draft.outcome_file is not None
    assert (draft.outcome_file.lead_id, draft.outcome_file.closed_at) == ("mql_id", "won_date")
    assert draft.outcome_file.status_column is None and draft.outcome_file.unknown == 1
    text = draft.text
    assert 'status = "won"   # every row is a won deal' in text and 'absent = "open"' in text
    assert "segment" not in text  # only the named columns of a deals file are read
    assert 'unknown_leads = "skip"   # 1 of 11 rows: unknown leads' in text
    (tmp_path / "crm.toml").write_text(text)
    summary = import_export(tmp_path / "crm.toml", tmp_path / "d", mode="strict")
    assert summary.leads == 40 and summary.outcome_counts == {"won": 10, "lost": 0, "open": 30}

    deals.write_text(
        "Opportunity,Lead,Stage,Close Date\n"
        + "\n".join(
            f"o{i},m{i},{['Closed Won', 'Closed Lost'][i % 2]},2024-03-{i % 28 + 1:02d}" for i in range(20)
        )
        + "\n"
        + "\n".join(f"o{i},m{i},," for i in range(20, 25))  # deals nobody has moved yet
        + "\n"
    )
    staged = draft_mapping(leads, tmp_path / "crm.toml", outcomes_path=deals)
    assert staged.outcome_file is not None and staged.outcome_file.status_column == "Stage"
    assert '"Closed Won" = "won"' in staged.text and '"Closed Lost" = "lost"' in staged.text
    assert '"" = "open"' in staged.text
    (tmp_path / "crm.toml").write_text(staged.text)
    assert import_export(tmp_path / "crm.toml", tmp_path / "e").outcome_counts == {
        "won": 10,
        "lost": 10,
        "open": 20,
    }


def test_an_outcome_file_takes_the_hand_over_from_the_leads_file_and_skips_deals_without_a_lead(
    tmp_path: Path,
) -> None:
    # Zoho-style: converted leads carry their conversion time (day first here, month first in the deals),
    # deals link back by the lead's id, and a deal on an account names no lead at all.
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "Record Id,Created Time,Converted Date Time,Lead Source,Lead Conversion Time\n"
        + "\n".join(
            f"z{i},2024-01-{i % 28 + 1:02d},{f'{i + 13}/02/2024' if i < 12 else ''},web,"
            + (f"{i % 9 + 3}" if i < 64 or i == 99 else "")
            for i in range(100)
        )
        + "\n"
    )
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "Deal,Lead Id,Stage,Closing Date\n"
        + "\n".join(
            f"d{i},z{i},{['Closed Won', 'Closed Lost'][i % 2]},03/{i % 16 + 13}/2024" for i in range(64)
        )
        + "\nd99,,Closed Won,03/30/2024\n"
    )
    draft = draft_mapping(leads, tmp_path / "crm.toml", outcomes_path=deals)
    assert draft.outcome_file is not None
    assert draft.outcome_file.from_leads == {"handed_over_at": "Converted Date Time"}
    text = draft.text
    assert 'handed_over_at = "Converted Date Time"   # from the leads file' in text
    assert 'date_format = "month_first"' in text
    assert 'date_formats = { "Converted Date Time" = "day_first" }' in text
    assert 'unknown_leads = "skip"   # 1 of 65 rows: unknown leads' in text
    # Filled once a lead converts: the outcome file's stages show it as a leads file's own status would.
    conversion = next(role for role in draft.roles if role.column == "Lead Conversion Time")
    assert (
        conversion.known_at == "after_contact" and "filled for lost 100%, open 3%, won 100%" in conversion.why
    )
    (tmp_path / "crm.toml").write_text(text)
    import_export(tmp_path / "crm.toml", tmp_path / "d", mode="strict")
    dataset, _ = load_dataset(tmp_path / "d")
    handed = dataset.outcomes.set_index("lead_id")["handed_over_at"]
    assert handed.notna().sum() == 12 and handed["z3"] == pd.Timestamp("2024-02-16", tz="UTC")


LEAD_STATUS = ["New", "Unqualified", "Connected"]


def test_hubspot_milestones_and_a_second_status_column(tmp_path: Path) -> None:
    stages = ["lead", "marketingqualifiedlead", "customer", "lead", "opportunity"]
    rows = [
        f"{200 + i},2024-01-{i % 28 + 1:02d} 09:00,{stages[i % 5]},{LEAD_STATUS[i % 3]},"
        + ("2024-02-01" if stages[i % 5] in ("marketingqualifiedlead", "customer", "opportunity") else "")
        + ","
        + ("2024-03-01" if stages[i % 5] in ("customer", "opportunity") else "")
        + ","
        + ("2024-04-01" if stages[i % 5] == "customer" else "")
        for i in range(40)
    ]
    export = tmp_path / "contacts.csv"
    export.write_text(
        "Record ID,Create Date,Lifecycle Stage,Lead Status,Became a Marketing Qualified Lead Date,"
        "Became an Opportunity Date,Became a Customer Date\n" + "\n".join(rows) + "\n"
    )
    draft = draft_mapping(export, tmp_path / "crm.toml")
    roles = {role.column: role for role in draft.roles}
    assert roles["Lifecycle Stage"].role == "status"
    assert roles["Lead Status"].known_at == "after_contact"  # set by sales as they work the lead
    assert roles["Became a Marketing Qualified Lead Date"].role == "handed_over_at"
    assert roles["Became an Opportunity Date"].role == "opportunity_at"
    assert roles["Became a Customer Date"].role == "closed_at"
    (tmp_path / "crm.toml").write_text(draft.text)
    summary = import_export(tmp_path / "crm.toml", tmp_path / "d", mode="strict")
    assert summary.outcome_counts == {"won": 8, "lost": 0, "open": 32}


def test_a_latest_conversion_is_no_close_and_company_size_no_engagement(tmp_path: Path) -> None:
    # HubSpot lists "Recent Conversion Date" (the latest form submission) before "Close Date".
    stages = ["lead", "customer", "subscriber", "lead"]
    rows = [
        f"{300 + i},2024-01-{i % 28 + 1:02d},{stages[i % 4]},2024-02-{i % 28 + 1:02d},"
        + ("2024-03-01" if stages[i % 4] == "customer" else "")
        + f",{10 * (i % 7 + 1)},{i % 5}"
        for i in range(40)
    ]
    export = tmp_path / "contacts.csv"
    export.write_text(
        "Record ID,Create Date,Lifecycle Stage,Recent Conversion Date,Close Date,Number of Employees,"
        "Number of Form Submissions\n" + "\n".join(rows) + "\n"
    )
    draft = draft_mapping(export, tmp_path / "crm.toml")
    roles = {role.column: role for role in draft.roles}
    assert roles["Close Date"].role == "closed_at"
    assert roles["Recent Conversion Date"].role == "drop"
    assert "written at or after the outcome" in roles["Recent Conversion Date"].why
    assert roles["Number of Employees"].role == "numeric"
    assert roles["Number of Form Submissions"].role == "activity"
    # No stage reads as lost: every lead not won stays open, and the draft says so.
    assert any("reads as lost" in todo for todo in draft.todos)
    (tmp_path / "crm.toml").write_text(draft.text)
    summary = import_export(tmp_path / "crm.toml", tmp_path / "d", mode="strict")
    assert summary.outcome_counts == {"won": 10, "lost": 0, "open": 30}


def test_numbers_no_mapping_reads_are_dropped_with_a_to_do(tmp_path: Path) -> None:
    rows = [
        f"L{i},2024-01-{i % 28 + 1:02d},{i}.5M,{['$', '€'][i % 2]}{i},{['yes', 'no'][i % 3 == 0]}"
        for i in range(30)
    ]
    export = tmp_path / "leads.csv"
    export.write_text("Id,Created,Revenue,Budget,Won\n" + "\n".join(rows) + "\n")
    draft = draft_mapping(export, tmp_path / "crm.toml")
    roles = {role.column: role for role in draft.roles}
    assert roles["Revenue"].role == roles["Budget"].role == "drop"
    assert "scaled by a suffix" in roles["Revenue"].why and "different units" in roles["Budget"].why
    assert any(todo.startswith("'Revenue' is dropped:") for todo in draft.todos)
    assert "units = " not in draft.text  # never declared: "$" and "€" are no one scale


def test_blank_stages_are_open(tmp_path: Path) -> None:
    rows = [f"L{i},2024-01-{i % 28 + 1:02d},{['Won', 'Lost', ''][i % 3]}" for i in range(30)]
    export = tmp_path / "leads.csv"
    export.write_text("Id,Created,Status\n" + "\n".join(rows) + "\n")
    draft = draft_mapping(export, tmp_path / "crm.toml")
    assert '"" = "open"   # blank: no stage recorded yet' in draft.text
    (tmp_path / "crm.toml").write_text(draft.text)
    summary = import_export(tmp_path / "crm.toml", tmp_path / "d", mode="strict")
    assert summary.outcome_counts == {"won": 10, "lost": 10, "open": 10}


KINDS = ["Call", "Email"]


def test_an_event_type_is_never_a_name_or_an_id_and_a_weak_link_is_a_to_do(tmp_path: Path) -> None:
    export = _crm_export(tmp_path / "leads.csv", rows=20)
    events = tmp_path / "tasks.csv"
    lines = [
        f"{1000 + i if i < 8 else 5000 + i},Person {i % 4},00T{i % 3},2024-04-{i % 28 + 1:02d},{KINDS[i % 2]}"
        for i in range(40)
    ]
    events.write_text("WhoId,Contact Name,WhatId,Activity Date,Type\n" + "\n".join(lines) + "\n")
    draft = draft_mapping(export, tmp_path / "crm.toml", events_path=events)
    assert draft.events is not None and draft.events.event_type_column == "Type"
    assert draft.events.lead_id == "WhoId" and draft.events.unknown == 32
    assert any(
        todo.startswith("only 8 of 40 events name a lead of the leads file by 'WhoId'")
        for todo in draft.todos
    )
    assert "event_type_values" not in draft.text  # no Call or Email is a hand-raise
    # Beside an events file, the leads file's activity totals count activity after each snapshot.
    opens = {role.column: role for role in draft.roles}["Email Opens"]
    assert opens.role == "drop" and "counted at export time" in opens.why


def test_unknown_leads_of_the_outcome_needs_an_outcome_file(tmp_path: Path) -> None:
    export = _crm_export(tmp_path / "leads.csv", rows=10)
    draft = draft_mapping(export, tmp_path / "crm.toml")
    (tmp_path / "crm.toml").write_text(
        draft.text.replace('status_column = "Stage"', 'status_column = "Stage"\nunknown_leads = "skip"')
    )
    with pytest.raises(MappingConfigError, match=r"'outcome\.unknown_leads': only applies with 'file'"):
        load_mapping(tmp_path / "crm.toml")


def test_a_profile_column_named_like_a_contract_column_is_renamed(tmp_path: Path) -> None:
    rows = [
        f"L{i},2024-01-{i % 28 + 1:02d},{['active', 'paused'][i % 2]},{['yes', 'no'][i % 3 == 0]}"
        for i in range(30)
    ]
    export = tmp_path / "leads.csv"
    export.write_text("Id,Created,status,Converted\n" + "\n".join(rows) + "\n")
    draft = draft_mapping(export, tmp_path / "crm.toml")
    assert 'rename = { "status" = "status_attribute" }' in draft.text
    (tmp_path / "crm.toml").write_text(draft.text)
    assert import_export(tmp_path / "crm.toml", tmp_path / "d", mode="strict").leads == 30


def test_an_amount_the_lead_asked_for_is_a_feature_and_an_outcome_date_closes(tmp_path: Path) -> None:
    """The BPI loan log's AMOUNT_REQ is known at application; a deal's amount is written with the win."""
    rows = [
        f"C{i},2024-01-{i % 28 + 1:02d},{1000 * (i % 7 + 1)},{500 * (i % 5)},{['won', 'lost'][i % 2]},"
        f"2024-03-{i % 28 + 1:02d}"
        for i in range(30)
    ]
    export = tmp_path / "cases.csv"
    export.write_text("case,REG_DATE,AMOUNT_REQ,Deal Amount,outcome,outcome_at\n" + "\n".join(rows) + "\n")
    roles = {role.column: role.role for role in draft_mapping(export, tmp_path / "crm.toml").roles}
    assert roles["AMOUNT_REQ"] == "numeric" and roles["Deal Amount"] == "drop"
    assert roles["outcome_at"] == "closed_at" and roles["REG_DATE"] == "created_at"


def test_a_sheet_with_a_title_and_a_footer_is_drafted_with_both(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Lead report"])
    sheet.append([])
    sheet.append(["Id", "Created", "Source", "Won"])
    for i in range(30):
        sheet.append([f"L{i}", f"2024-01-{i % 28 + 1:02d}", ["Web", "Ads"][i % 2], ["yes", "no"][i % 3 == 0]])
    sheet.append([])
    sheet.append(["Generated By: Jane Doe"])
    book.save(tmp_path / "report.xlsx")
    draft = draft_mapping(tmp_path / "report.xlsx", tmp_path / "crm.toml")
    assert "header_row = 3   # below the title 'Lead report'" in draft.text
    assert "skip_footer = 1" in draft.text
    assert any("first row is a title ('Lead report')" in todo for todo in draft.todos)
    (tmp_path / "crm.toml").write_text(draft.text)
    assert import_export(tmp_path / "crm.toml", tmp_path / "d", mode="strict").leads == 30


def test_a_profile_columns_new_name_is_one_no_column_has(tmp_path: Path) -> None:
    rows = [
        f"L{i},2024-01-{i % 28 + 1:02d},{['a', 'b'][i % 2]},{['c', 'd'][i % 2]},{['yes', 'no'][i % 3 == 0]}"
        for i in range(30)
    ]
    export = tmp_path / "leads.csv"
    export.write_text("Id,Created,status,status_attribute,Converted\n" + "\n".join(rows) + "\n")
    draft = draft_mapping(export, tmp_path / "crm.toml")
    assert 'rename = { "status" = "status_attribute_2" }' in draft.text


def test_an_ambiguous_amount_keeps_its_unit_and_asks_only_for_the_separator(tmp_path: Path) -> None:
    # "$1,123": 1.123 or 1123? The draft declares the "$" and asks which separator.
    rows = [
        f'L{i},2024-01-{i % 28 + 1:02d},{10 + i},"${(i + 1) * 1000 + 123:,}",{["yes", "no"][i % 3 == 0]}'
        for i in range(30)
    ]
    export = tmp_path / "leads.csv"
    export.write_text("Id,Created,Fee,Revenue,Won\n" + "\n".join(rows) + "\n")
    draft = draft_mapping(export, tmp_path / "crm.toml")
    assert 'units = ["$"]' in draft.text
    assert any(todo.startswith("the numbers of 'Revenue'") for todo in draft.todos)
    assert not any("unlike the file's other numeric columns" in todo for todo in draft.todos)


def test_a_column_filled_as_the_lead_moves_is_kept_out_of_the_features(tmp_path: Path) -> None:
    """ "Segment" is entered when a deal closes: filled for won and lost leads, empty for open ones. Its
    name says nothing; its fill rates do."""
    stages = ["Closed Won", "Closed Lost", "Open"]
    rows = [
        f"L{i},2024-01-{i % 28 + 1:02d},{['Web', 'Ads'][i % 2]},{stages[i % 3]},"
        + ("" if stages[i % 3] == "Open" else ["SMB", "Enterprise"][i % 2])
        for i in range(120)
    ]
    export = tmp_path / "leads.csv"
    export.write_text("Id,Created,Source,Stage,Segment\n" + "\n".join(rows) + "\n")
    roles = {role.column: role for role in draft_mapping(export, tmp_path / "crm.toml").roles}
    assert roles["Segment"].known_at == "after_contact"
    assert "filled for lost 100%, open 0%, won 100% of leads" in roles["Segment"].why
    assert roles["Source"].known_at is None  # filled alike whatever became of the lead


def test_requests_for_contact_are_drafted_onto_the_hand_raising_names() -> None:
    from training.data.draft.hand_raising import hand_raising_values

    values = [
        "Demo angefragt",
        "Request a demo",
        "Kontaktanfrage",
        "Free Trial Signup",
        "Angebot angefordert",
        "Pricing Inquiry",
    ]
    assert hand_raising_values([*values, "Meeting", "Demo", "Call", "Webseitenbesuch", "demo_request"]) == {
        "Demo angefragt": "demo_request",
        "Request a demo": "demo_request",
        "Kontaktanfrage": "contact_request",
        "Free Trial Signup": "trial_signup",
        "Angebot angefordert": "quote_request",
        "Pricing Inquiry": "pricing_request",
    }  # a meeting or call sales logged, or a demo held, is no request; a built-in name needs no line
