"""Batch scoring (``leadripe score``) on one machine: the API's answers, as columns, for a whole dataset."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from serving.app import create_app
from serving.batch.answers import AnswerOptions, reason_column
from serving.batch.run import BatchPlan, as_of_times, score_dataset
from serving.batch.tables import MissingProfileColumnsError, ScoringTables
from serving.cli import app
from serving.model_holder import LoadedModel, ModelHolder
from serving.scorer import LeadScorer
from serving.settings import Settings
from training.bundle import ModelBundle
from training.data.contract import LeadDataset

AS_OF = pd.Timestamp("2026-02-01T00:00:00Z")


def api_client(scorer: LeadScorer) -> Iterator[TestClient]:
    """The API serving ``scorer`` (version "3"), as the CRM would call it."""

    def load() -> LoadedModel:
        return LoadedModel(scorer, "memory", datetime.now(UTC), "3")

    with TestClient(create_app(Settings(max_batch_size=1000), ModelHolder(load))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def client(batch_scorer: LeadScorer) -> Iterator[TestClient]:
    yield from api_client(batch_scorer)


def request_bodies(dataset: LeadDataset, lead_ids: list[str], as_of: pd.Timestamp) -> list[dict[str, Any]]:
    """The leads as the CRM would send them to the API: profile, created_at and every event."""
    leads = dataset.leads.set_index("lead_id").loc[lead_ids]
    events = dataset.events[dataset.events["lead_id"].isin(lead_ids)]
    by_lead = {lead_id: group for lead_id, group in events.groupby("lead_id", observed=True)}
    profile_columns = dataset.metadata.profile_columns
    bodies = []
    for lead_id, row in leads.iterrows():
        own = by_lead.get(lead_id)
        bodies.append(
            {
                "lead_id": lead_id,
                "created_at": row["created_at"].isoformat(),
                "as_of": as_of.isoformat(),
                "profile": {c: None if pd.isna(row[c]) else _plain(row[c]) for c in profile_columns},
                "events": []
                if own is None
                else [
                    {"occurred_at": t.isoformat(), "event_type": str(e)}
                    for t, e in zip(own["occurred_at"], own["event_type"], strict=True)
                ],
            }
        )
    return bodies


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def api_answers(client: TestClient, bodies: list[dict[str, Any]], reasons: int) -> list[dict[str, Any]]:
    answers = []
    for start in range(0, len(bodies), 500):
        response = client.post(
            "/v1/score/batch", json={"leads": bodies[start : start + 500]}, params={"reasons": reasons}
        )
        assert response.status_code == 200, response.text
        answers.extend(response.json()["results"])
    return answers


def batch_scores(
    scorer: LeadScorer, dataset: LeadDataset, tmp_path: Path, plan: BatchPlan, **kwargs: Any
) -> pd.DataFrame:
    out = tmp_path / "scores.parquet"
    score_dataset(scorer, dataset, plan, out, **kwargs)
    return pd.read_parquet(out)


def test_batch_rows_equal_the_api_answers_exactly(
    batch_scorer: LeadScorer, batch_dataset: LeadDataset, client: TestClient, tmp_path: Path
) -> None:
    k = 3
    scores = batch_scores(
        batch_scorer, batch_dataset, tmp_path, BatchPlan(as_of=(AS_OF,), answers=AnswerOptions(k))
    )
    assert len(scores) > 100
    answers = api_answers(client, request_bodies(batch_dataset, scores["lead_id"].tolist(), AS_OF), k)
    assert [a["lead_id"] for a in answers] == scores["lead_id"].tolist()
    for answer, row in zip(answers, scores.to_dict(orient="records"), strict=True):
        assert pd.Timestamp(answer["as_of"]) == row["as_of"] == AS_OF
        for field in (
            "model_version",
            "score",
            "readiness",
            "handover_chance",
            "grade",
            "threshold_score",
            "verdict",
            "verdict_source",
            "handover",
            "contact_requested",
            "fit",
            "interest",
        ):
            assert answer[field] == row[field], (field, answer["lead_id"])
        assert answer["percentile"] == row["percentile"]
        days = answer["gone_cold_rule"]["days_inactive"]
        assert (days is None and math.isnan(row["days_inactive"])) or days == row["days_inactive"]
        explanation = answer["reasons"]
        assert explanation["raw_score"] == row["raw_score"]
        assert explanation["base_value"] == row["base_value"]
        for side, listed in (("up", explanation["positive"]), ("down", explanation["negative"])):
            for rank in range(1, k + 1):
                column = {
                    f: row[reason_column(side, rank, f)] for f in ("signal", "feature", "value", "level")
                }
                if rank > len(listed):
                    assert column["feature"] is None or pd.isna(column["feature"])
                    continue
                reason = listed[rank - 1]
                assert column["feature"] == reason["feature"] and column["signal"] == reason["signal"]
                value = column["level"] if isinstance(reason["value"], str) else column["value"]
                assert value == reason["value"] or (reason["value"] is None and math.isnan(value))
                assert row[reason_column(side, rank, "contribution")] == reason["contribution"]
                assert row[reason_column(side, rank, "sentence")] == reason["sentence"]


def test_scores_without_reasons_skip_the_contributions_and_agree(
    batch_scorer: LeadScorer, batch_dataset: LeadDataset, tmp_path: Path
) -> None:
    plan = BatchPlan(as_of=(AS_OF,))
    fast = batch_scores(batch_scorer, batch_dataset, tmp_path, plan)
    explained = batch_scores(
        batch_scorer, batch_dataset, tmp_path, BatchPlan(as_of=(AS_OF,), answers=AnswerOptions(2))
    )
    assert fast["raw_score"].isna().all() and not any(c.startswith("reason_") for c in fast.columns)
    # Plain tree predictions and the sum of TreeSHAP contributions agree up to float rounding.
    np.testing.assert_allclose(fast["readiness"], explained["readiness"], rtol=1e-12)
    # Fit and interest without reasons come from the model's per-tree tables, not from TreeSHAP per
    # lead: the same grades.
    for column in ("lead_id", "score", "grade", "verdict", "handover", "fit", "interest"):
        assert fast[column].tolist() == explained[column].tolist()
    assert fast["fit"].notna().all() and fast["fit"].nunique() > 1 and fast["interest"].nunique() > 1


def test_chunks_give_the_same_rows_as_one_pass(
    batch_scorer: LeadScorer, batch_dataset: LeadDataset, tmp_path: Path
) -> None:
    whole = batch_scores(
        batch_scorer, batch_dataset, tmp_path, BatchPlan(as_of=(AS_OF,), answers=AnswerOptions(1))
    )
    chunked = batch_scores(
        batch_scorer,
        batch_dataset,
        tmp_path,
        BatchPlan(as_of=(AS_OF,), chunk_size=97, answers=AnswerOptions(1)),
    )
    pd.testing.assert_frame_equal(whole, chunked)


def test_the_model_stage_of_the_next_chunk_runs_in_a_worker_thread(
    batch_scorer: LeadScorer, batch_dataset: LeadDataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import serving.batch.run as run

    seen: list[tuple[str, str]] = []
    model_answers, answers_of = run.model_answers, run.answers_of

    def model_stage(*args: Any, **kwargs: Any) -> Any:
        seen.append(("model", threading.current_thread().name))
        return model_answers(*args, **kwargs)

    def answer_stage(*args: Any, **kwargs: Any) -> pd.DataFrame:
        seen.append(("answers", threading.current_thread().name))
        return answers_of(*args, **kwargs)

    monkeypatch.setattr(run, "model_answers", model_stage)
    monkeypatch.setattr(run, "answers_of", answer_stage)
    plan = BatchPlan(as_of=(AS_OF,), chunk_size=400, answers=AnswerOptions(1))
    tables = ScoringTables.from_dataset(
        batch_dataset, batch_scorer.categorical_columns, batch_scorer.numeric_columns
    )
    frames = list(run.score_chunks(batch_scorer, tables, plan, run.BatchSummary()))
    models = [name for stage, name in seen if stage == "model"]
    answers = [name for stage, name in seen if stage == "answers"]
    assert len(models) == len(answers) == len(frames) > 1
    assert all(name.startswith("leadripe-model") for name in models)
    assert all(name == threading.main_thread().name for name in answers)


def test_more_model_workers_give_the_same_rows_in_the_same_order(
    batch_scorer: LeadScorer, batch_dataset: LeadDataset, tmp_path: Path
) -> None:
    def scores(workers: int) -> pd.DataFrame:
        plan = BatchPlan(as_of=(AS_OF,), chunk_size=150, answers=AnswerOptions(2), model_workers=workers)
        return batch_scores(batch_scorer, batch_dataset, tmp_path, plan)

    one = scores(1)
    assert len(one) > 450  # several chunks
    for workers in (2, 3):
        pd.testing.assert_frame_equal(scores(workers), one)
    with pytest.raises(ValueError, match="model_workers"):
        BatchPlan(as_of=(AS_OF,), model_workers=0)


def test_open_leads_not_yet_handed_over_by_default_all_with_include_closed(
    batch_scorer: LeadScorer, batch_dataset: LeadDataset, tmp_path: Path
) -> None:
    tables = ScoringTables.from_dataset(
        batch_dataset, batch_scorer.categorical_columns, batch_scorer.numeric_columns
    )
    as_of_ns = AS_OF.value
    open_only = tables.select(as_of_ns)
    everything = tables.select(as_of_ns, include_closed=True)
    created = batch_dataset.leads["created_at"] <= AS_OF
    outcomes = batch_dataset.outcomes.set_index("lead_id").loc[batch_dataset.leads["lead_id"]]
    closed = (outcomes["closed_at"] <= AS_OF).to_numpy()
    # With sales already: a verdict on whether to hand it over would be noise in the CRM.
    handed = (outcomes["handed_over_at"] <= AS_OF).to_numpy() & ~closed
    assert len(everything.positions) == int(created.sum())
    assert everything.not_yet_created == int((~created).sum()) > 0
    assert len(open_only.positions) == int((created.to_numpy() & ~closed & ~handed).sum())
    assert open_only.closed == int((created.to_numpy() & closed).sum()) > 0
    assert open_only.handed_over == int((created.to_numpy() & handed).sum()) > 0
    summary = score_dataset(
        batch_scorer, batch_dataset, BatchPlan(as_of=(AS_OF,), include_closed=True), tmp_path / "all.parquet"
    )
    assert summary.rows_scored == len(everything.positions)
    assert sum(summary.by_verdict.values()) == sum(summary.by_grade.values()) == summary.rows_scored


def test_backfill_scores_each_lead_at_each_time(
    batch_scorer: LeadScorer, batch_dataset: LeadDataset, tmp_path: Path
) -> None:
    times = as_of_times(["2026-01-01..2026-01-15"], every_days=7, default=AS_OF)
    assert [t.day for t in times] == [1, 8, 15]
    scores = batch_scores(batch_scorer, batch_dataset, tmp_path, BatchPlan(as_of=times))
    assert sorted(scores["as_of"].unique()) == list(times)
    # Each time equals scoring that time alone.
    alone = batch_scores(batch_scorer, batch_dataset, tmp_path, BatchPlan(as_of=(times[1],)))
    middle = scores[scores["as_of"] == times[1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(middle, alone)


def test_as_of_values_lists_ranges_and_errors() -> None:
    default = pd.Timestamp("2025-05-05T00:00:00Z")
    assert as_of_times([], every_days=7, default=default) == (default,)
    assert as_of_times(["2025-01-01,2025-02-01T12:00:00+02:00"], every_days=7, default=default) == (
        pd.Timestamp("2025-01-01T00:00:00Z"),
        pd.Timestamp("2025-02-01T10:00:00Z"),
    )
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        as_of_times(["yesterday"], every_days=7, default=default)
    with pytest.raises(ValueError, match="ends before it starts"):
        as_of_times(["2025-02-01..2025-01-01"], every_days=7, default=default)


def test_crm_csv_and_changed_since(
    batch_scorer: LeadScorer, batch_dataset: LeadDataset, client: TestClient, tmp_path: Path
) -> None:
    first = tmp_path / "monday.parquet"
    score_dataset(batch_scorer, batch_dataset, BatchPlan(as_of=(AS_OF,), answers=AnswerOptions(2)), first)
    later = AS_OF + pd.Timedelta(days=14)
    crm = tmp_path / "tuesday.csv"
    summary = score_dataset(
        batch_scorer,
        batch_dataset,
        BatchPlan(as_of=(later,), answers=AnswerOptions(2)),
        crm,
        output_format="crm-csv",
        changed_since=first,
    )
    rows = pd.read_csv(crm, dtype=str, keep_default_na=False)
    assert list(rows.columns) == [
        "lead_id",
        "as_of",
        "score",
        "handover_score",
        "grade",
        "verdict",
        "handover",
        "fit",
        "interest",
        "reasons_up",
        "reasons_down",
        "model_version",
    ]
    full = batch_scores(
        batch_scorer, batch_dataset, tmp_path, BatchPlan(as_of=(later,), answers=AnswerOptions(2))
    )
    before = pd.read_parquet(first).set_index("lead_id")
    joined = full.join(before[["verdict", "grade"]].add_suffix("_before"), on="lead_id")
    changed = (
        joined["verdict_before"].isna()
        | (joined["verdict"] != joined["verdict_before"])
        | (joined["grade"] != joined["grade_before"])
    )
    assert 0 < changed.sum() < len(full)
    assert rows["lead_id"].tolist() == full.loc[changed, "lead_id"].tolist()
    assert summary.rows_written == len(rows) and summary.rows_unchanged == int((~changed).sum())
    first_row = full.loc[changed].iloc[0]
    assert rows["as_of"].iloc[0] == later.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (
        float(rows["score"].iloc[0]) == first_row["score"] and rows["verdict"].iloc[0] == first_row["verdict"]
    )
    assert rows["reasons_up"].iloc[0].split(" | ")[0] == first_row["reason_up_1_sentence"]
    assert set(rows["handover"]) <= {"true", "false"}
    # The number the verdict rests on, as the API gives it.
    leads = rows["lead_id"].tolist()[:20]
    answers = api_answers(client, request_bodies(batch_dataset, leads, later), 0)
    assert [float(v) for v in rows["handover_score"].iloc[:20]] == [a["handover_score"] for a in answers]


def test_a_model_column_missing_from_the_leads_is_refused(
    batch_scorer: LeadScorer, batch_dataset: LeadDataset
) -> None:
    leads = batch_dataset.leads.drop(columns=["industry"])
    broken = LeadDataset(leads, batch_dataset.events, batch_dataset.outcomes, batch_dataset.metadata)
    with pytest.raises(MissingProfileColumnsError, match="industry"):
        ScoringTables.from_dataset(broken, batch_scorer.categorical_columns, batch_scorer.numeric_columns)


def test_cli_scores_a_dataset_and_refuses_bad_input(
    batch_data_dir: Path, batch_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cli.parquet"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "score",
            "--data",
            str(batch_data_dir),
            "--model",
            str(batch_model_dir),
            "--out",
            str(out),
            "--as-of",
            "2026-02-01",
            "--reasons",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "verdict too_green" in result.output and "grade A" in result.output
    assert "blocked by its leakage audit" not in result.output
    scores = pd.read_parquet(out)
    assert len(scores) > 0 and (scores["as_of"] == AS_OF).all()
    bad = runner.invoke(
        app,
        [
            "score",
            "--data",
            str(batch_data_dir),
            "--model",
            str(batch_model_dir),
            "--out",
            str(tmp_path / "x.parquet"),
            "--as-of",
            "someday",
        ],
    )
    assert bad.exit_code == 2 and "someday" in bad.output
    assert not (tmp_path / "x.parquet").exists()
    missing = runner.invoke(
        app,
        ["score", "--data", str(tmp_path / "nowhere"), "--model", str(batch_model_dir), "--out", str(out)],
    )
    assert missing.exit_code == 2 and "nowhere" in missing.output


def test_an_interrupted_run_leaves_no_file(
    batch_scorer: LeadScorer, batch_dataset: LeadDataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    import serving.batch.run as run

    real = run.answers_of

    def failing(*args: Any, **kwargs: Any) -> pd.DataFrame:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(run, "answers_of", failing)
    out = tmp_path / "scores.parquet"
    with pytest.raises(RuntimeError):
        score_dataset(batch_scorer, batch_dataset, BatchPlan(as_of=(AS_OF,), chunk_size=50), out)
    assert not out.exists() and not list(tmp_path.iterdir())


def test_scoring_with_a_model_its_audit_blocked_says_so(
    batch_data_dir: Path, batch_bundle: ModelBundle, tmp_path: Path
) -> None:
    from training.bundle import FindingRecord

    finding = FindingRecord(
        table="leads",
        column="industry",
        kind="dominant_column",
        severity="blocking",
        detail="carries 67% of the model's importance",
        action="exclude it",
    )
    blocked = dataclasses.replace(
        batch_bundle, card=batch_bundle.card.model_copy(update={"leakage_warnings": [finding]})
    )
    blocked.save(tmp_path / "blocked")
    arguments = ["score", "--data", str(batch_data_dir), "--model", str(tmp_path / "blocked")]
    result = CliRunner().invoke(
        app, [*arguments, "--out", str(tmp_path / "s.parquet"), "--as-of", "2026-02-01"]
    )
    assert result.exit_code == 0, result.output
    assert "was blocked by its leakage audit (leads.industry)" in " ".join(result.output.split())
