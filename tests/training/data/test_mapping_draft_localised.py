"""Drafting a mapping from a German CRM export (Pipedrive/Zoho style): Windows encoding, ``;``, day-first
dates with a typo, German stage names, won and lost dates in two columns, a lost reason, ``k.A.``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.data.draft import draft_mapping
from training.data.mapping import MappingConfigError, import_export, load_mapping
from training.data.parsing import missing_marker_hint
from training.data.validation import DataValidationError


def _german_export(path: Path, rows: int = 200) -> Path:
    rng = np.random.default_rng(5)
    created = pd.Timestamp("2024-01-01 09:00") + pd.to_timedelta(np.arange(rows) * 2, unit="D")
    stage = np.array(["Gewonnen", "Verloren", "Verloren", "Offen", "In Verhandlung"])[np.arange(rows) % 5]
    closed = created + pd.Timedelta(days=30)
    lines = ["Lead-ID;Erstellt am;Quelle;Mitarbeiterzahl;Status;Gewonnen am;Verloren am;Verlustgrund;Wert"]
    for i in range(rows):
        won = stage[i] == "Gewonnen"
        lost = stage[i] == "Verloren"
        lines.append(
            ";".join(
                [
                    f"L-{1000 + i}",
                    "15.13.2024 09:30" if i == 7 else created[i].strftime("%d.%m.%Y %H:%M"),  # a typo
                    str(rng.choice(["Webseite", "Messe", "Empfehlung"])),
                    "k.A." if i % 11 == 0 else str(int(rng.integers(5, 500))),
                    str(stage[i]),
                    closed[i].strftime("%d.%m.%Y %H:%M") if won else "",
                    closed[i].strftime("%d.%m.%Y %H:%M") if lost else "",
                    str(rng.choice(["Preis", "Kein Bedarf"])) if lost else "",
                    f"{rng.uniform(1_000, 90_000):,.2f} €".replace(",", "X")
                    .replace(".", ",")
                    .replace("X", ".")
                    if won
                    else "",
                ]
            )
        )
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def test_a_german_export_drafts_its_stages_dates_and_leaks(tmp_path: Path) -> None:
    export = _german_export(tmp_path / "leads.csv")
    draft = draft_mapping(export, tmp_path / "crm.toml", encoding="cp1252")
    roles = {role.column: role for role in draft.roles}
    assert roles["Erstellt am"].role == "created_at"  # one typo ("15.13.2024") does not unmake the dates
    assert '"Erstellt am" = "day_first"' in draft.text
    assert roles["Status"].role == "status"
    assert '"Gewonnen" = "won"' in draft.text and '"Verloren" = "lost"' in draft.text
    assert roles["Gewonnen am"].role == "closed_at"
    assert roles["Verloren am"].role == "closed_at_fallback"
    assert 'closed_at_fallback = "Verloren am"' in draft.text
    assert roles["Verlustgrund"].role == "drop"  # the lost reason: written after the outcome
    assert roles["Wert"].known_at == "after_contact"  # the deal value, filled for wins only
    assert roles["Mitarbeiterzahl"].role == "numeric"
    assert "k.A." in draft.text  # read as missing
    assert missing_marker_hint("k.A.") != ""

    (tmp_path / "crm.toml").write_text(draft.text, encoding="utf-8")
    summary = import_export(tmp_path / "crm.toml", tmp_path / "d", encoding="cp1252")
    # Every lost lead has its close date (no warning about undated closes); the typo is the one reject.
    assert summary.rejects == 1 and summary.outcome_counts == {"won": 40, "lost": 79, "open": 80}
    assert not any("have no closed_at" in warning for warning in summary.warnings)
    assert any("have no 'Gewonnen am': 'Verloren am' used instead" in w for w in summary.warnings)


def test_a_close_date_fallback_needs_its_close_date(tmp_path: Path) -> None:
    config = tmp_path / "crm.toml"
    config.write_text(
        'name = "crm"\n[leads]\nfile = "leads.csv"\nlead_id = "id"\ncreated_at = "Created"\n'
        '[outcome]\nstatus_column = "Stage"\nclosed_at_fallback = "Lost On"\n'
    )
    with pytest.raises(MappingConfigError, match=r"key 'outcome\.closed_at_fallback': only applies together"):
        load_mapping(config)


def test_a_deals_file_with_lost_and_won_times_drafts_the_won_one_first(tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("Id,Created\n" + "".join(f"D{i},2024-01-{i % 28 + 1:02d}\n" for i in range(40)))
    deals = tmp_path / "deals.csv"
    stages = ["won", "lost", "open", "lost"]
    rows = [
        f"D{i},{['Won', 'Lost', 'Open', 'Lost'][i % 4]},"
        + ("2024-03-01" if stages[i % 4] == "lost" else "")
        + ","
        + ("2024-03-05" if stages[i % 4] == "won" else "")
        for i in range(40)
    ]
    deals.write_text("Deal person,Status,Lost time,Won time\n" + "\n".join(rows) + "\n")
    draft = draft_mapping(leads, tmp_path / "crm.toml", outcomes_path=deals)
    assert draft.outcome_file is not None
    assert (draft.outcome_file.closed_at, draft.outcome_file.closed_at_fallback) == ("Won time", "Lost time")
    (tmp_path / "crm.toml").write_text(draft.text)
    summary = import_export(tmp_path / "crm.toml", tmp_path / "d", mode="strict")
    assert summary.outcome_counts == {"won": 10, "lost": 20, "open": 10}
    assert not any("have no closed_at" in warning for warning in summary.warnings)


def test_stage_words_read_in_other_languages_and_with_accents() -> None:
    from training.data.draft.roles import outcome_value, words

    assert [outcome_value(v) for v in ("Ganó", "Sí", "Kein Bedarf", "Kein Interesse")] == [
        "won",
        "won",
        "lost",
        "lost",
    ]
    # A customer that is only potential or former is no win.
    assert {outcome_value(v) for v in ("Potenzieller Kunde", "Cliente potencial", "Former customer")} == {
        "open"
    }
    assert words("Date de clôture") == "date de cloture" and words("Straße") == "strasse"
    assert outcome_value("Descalificado") == "lost"  # Dynamics 365 in Spanish
    assert {outcome_value(v) for v in ("No calificado", "Non qualificato", "Non qualifié")} == {"lost"}


def test_a_spanish_dynamics_export_keeps_what_sales_write_out_of_the_features(tmp_path: Path) -> None:
    from training.data.draft.hand_raising import hand_raising_values

    rows = [
        f"{i},0{i % 9 + 1}/0{i % 9 + 1}/2024 10:00,{['Abierto', 'Calificado', 'Descalificado'][i % 3]},"
        f"{['Nuevo', 'Contactado', 'Perdido'][i % 3]},{['Ana', 'Luis'][i % 2]},{i % 7 * 10},{1000 + i},N/D"
        for i in range(60)
    ]
    export = tmp_path / "clientes.csv"
    export.write_text(
        "Id. de cliente potencial,Fecha de creación,Estado,Razón para el estado,Propietario,"
        "Puntuación del cliente potencial,Valor estimado,Sector\n" + "\n".join(rows) + "\n",
        encoding="utf-8-sig",
    )
    draft = draft_mapping(export, tmp_path / "crm.toml")
    roles = {role.column: role for role in draft.roles}
    assert roles["Estado"].role == "status" and '"Descalificado" = "lost"' in draft.text
    assert roles["Razón para el estado"].role == "drop" and roles["Valor estimado"].role == "drop"
    assert (
        roles["Propietario"].known_at == roles["Puntuación del cliente potencial"].known_at == "after_contact"
    )
    assert "N/D" in draft.text  # a missing marker
    assert hand_raising_values(["Formulario de contacto", "Cita"]) == {
        "Formulario de contacto": "contact_request"
    }


def test_a_province_or_a_company_s_legal_name_is_no_status_and_no_leak() -> None:
    from training.data.draft.roles import _AFTER_OUTCOME, _STATUS_NAME, words

    for name in ("Estado/Provincia", "Stato/Provincia", "Fase de compra"):
        assert not _STATUS_NAME.search(words(name)), name
    for name in ("Razón social", "Raison sociale", "Importeur"):
        assert not _AFTER_OUTCOME.search(words(name)), name
    assert _AFTER_OUTCOME.search(words("Razón para el estado")) and _AFTER_OUTCOME.search(words("Importe"))


def test_salesforce_s_expected_close_dates_of_open_deals_are_ignored(tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "Lead ID,Created Date\n" + "".join(f"00Q{i:04d},2024-01-{i % 28 + 1:02d}\n" for i in range(40))
    )
    deals = tmp_path / "opportunities.csv"
    stages = ["Closed Won", "Closed Lost", "Prospecting", "Negotiation/Review"]
    # Salesforce keeps a Close Date on every opportunity: the expected one while it is open (here future).
    rows = [f"00Q{i:04d},{stages[i % 4]},{'2024-03-01' if i % 4 < 2 else '2031-06-30'}" for i in range(40)]
    deals.write_text("Lead ID,Stage,Close Date\n" + "\n".join(rows) + "\n")
    draft = draft_mapping(leads, tmp_path / "crm.toml", outcomes_path=deals)
    assert 'close_date_of_open = "ignore"   # 100% of the open leads have a close date' in draft.text
    (tmp_path / "crm.toml").write_text(draft.text)
    summary = import_export(tmp_path / "crm.toml", tmp_path / "d", mode="strict")
    assert summary.outcome_counts == {"won": 10, "lost": 10, "open": 20} and summary.rejects == 0
    assert any(
        "20 open leads of opportunities.csv have a 'Close Date': an expected close" in w
        for w in summary.warnings
    )
    # Declared "reject" (the default), the same rows are refused.
    (tmp_path / "crm.toml").write_text(draft.text.replace('close_date_of_open = "ignore"', "# "))
    with pytest.raises(DataValidationError):
        import_export(tmp_path / "crm.toml", tmp_path / "e", mode="strict")


def test_date_only_tasks_and_a_conversion_date_are_drafted_for_what_they_are(tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "Lead ID,Created Date,Status,Closed On,Converted Date\n"
        + "".join(
            f"00Q{i:03d},2024-01-{i % 28 + 1:02d} 15:30,{['Won', 'Lost', 'Open'][i % 3]},"
            + (f"2024-03-{i % 28 + 1:02d}" if i % 3 < 2 else "")
            + ","
            + (f"2024-02-{i % 28 + 1:02d}" if i % 3 == 0 else "")
            + "\n"
            for i in range(60)
        )
    )
    tasks = tmp_path / "tasks.csv"
    # Salesforce's task dates have no time: the call on the creation day reads as midnight, before 15:30.
    tasks.write_text(
        "WhoId,Activity Date,Type,Duration\n"
        + "".join(
            f"00Q{i:03d},2024-01-{i % 28 + 1:02d},{['Call', 'Email'][i % 2]},{'N/D' if i % 5 == 0 else i}\n"
            for i in range(60)
        )
    )
    draft = draft_mapping(leads, tmp_path / "crm.toml", events_path=tasks)
    assert '\nbefore_created = "creation"   # the file has dates without times' in draft.text
    assert 'missing = ["N/D"]' in draft.text
    why = {role.column: role.why for role in draft.roles}["Converted Date"]
    assert why.startswith("a conversion date (Salesforce's hand-over")
    (tmp_path / "crm.toml").write_text(draft.text)
    summary = import_export(tmp_path / "crm.toml", tmp_path / "d", mode="strict")
    assert summary.events == 60 and summary.rejects == 0


def test_a_status_without_a_won_stage_points_at_a_qualification_date(tmp_path: Path) -> None:
    rows = [
        f"{i},0{i % 9 + 1}/01/2024 10:00,{['Abierto', 'Calificado', 'Descalificado'][i % 3]},"
        + (f"1{i % 9}/02/2024" if i % 3 == 1 else "")
        for i in range(60)
    ]
    export = tmp_path / "clientes.csv"
    export.write_text("Id,Fecha de creación,Estado,Fecha de calificación\n" + "\n".join(rows) + "\n")
    draft = draft_mapping(export, tmp_path / "crm.toml")
    assert any(
        "reads as won: map the won stage(s) in status_values and name its date in closed_at (perhaps "
        "'Fecha de calificación')" in todo
        for todo in draft.todos
    ), draft.todos
