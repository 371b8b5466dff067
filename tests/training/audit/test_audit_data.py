"""The leakage audit on data: leaks injected into simulated leads under neutral column names and values
are each warned about or blocked as documented; honest columns are not blocked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.audit import FindingKind, Severity, audit_dataset, column_importance
from training.audit.model_checks import model_findings
from training.audit.vocabulary import sales_words
from training.data.contract import DatasetMetadata, LeadDataset
from training.guard_settings import AuditSettings
from training.simulation.simulator import simulate


@pytest.fixture(scope="module")
def simulated() -> LeadDataset:
    return simulate(1500, seed=7).dataset


def won_mask(dataset: LeadDataset) -> np.ndarray:
    status = dataset.leads["lead_id"].map(dataset.outcomes.set_index("lead_id")["status"].astype(str))
    return status.eq("won").to_numpy()


def with_columns(
    dataset: LeadDataset, categorical: dict | None = None, numeric: dict | None = None, **meta_changes: object
) -> LeadDataset:
    """``dataset`` with extra profile columns (neutral names), declared in its metadata."""
    leads = dataset.leads.copy()
    for name, values in (categorical or {}).items():
        leads[name] = pd.Categorical(values)
    for name, values in (numeric or {}).items():
        leads[name] = np.asarray(values, dtype=np.float64)
    meta = dataset.metadata
    metadata = DatasetMetadata(
        name=meta.name,
        time_basis=meta.time_basis,
        observed_until=meta.observed_until,
        categorical_columns=[*meta.categorical_columns, *(categorical or {})],
        numeric_columns=[*meta.numeric_columns, *(numeric or {})],
        source=meta.source,
        **meta_changes,  # type: ignore[arg-type]
    )
    return LeadDataset(leads, dataset.events, dataset.outcomes, metadata)


def findings_by_column(dataset: LeadDataset, settings: AuditSettings | None = None) -> dict[str, set[str]]:
    report = audit_dataset(dataset, dataset.metadata.profile_columns, settings)
    found: dict[str, set[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.key, set()).add(f"{finding.severity}:{finding.kind}")
    return found


def test_honest_simulated_columns_are_ranked_and_never_blocked(simulated: LeadDataset) -> None:
    report = audit_dataset(simulated, simulated.metadata.profile_columns)
    assert report.blocking_columns == []
    assert not [f for f in report.findings if f.table == "leads"], [str(f) for f in report.findings]
    # The ranking always shows the top columns (event types count as columns), best first, with levels.
    assert len(report.top_columns) == 10
    aucs = [signal.auc for signal in report.top_columns]
    assert aucs == sorted(aucs, reverse=True) and all(0.5 <= auc <= 1 for auc in aucs)
    assert all(signal.levels for signal in report.top_columns)
    everything = audit_dataset(simulated, simulated.metadata.profile_columns, AuditSettings(top_columns=40))
    assert {"leads.source", "leads.industry", "events.event_type=demo_request"} <= {
        signal.key for signal in everything.top_columns
    }


def test_auc_outlier_warns_and_does_not_block(simulated: LeadDataset) -> None:
    rng = np.random.default_rng(1)
    won = won_mask(simulated)
    # A grade that mostly follows the outcome: "g1" for won leads, "g2"/"g3" for the others.
    grade = np.where(won ^ (rng.random(won.size) < 0.08), "g1", rng.choice(["g2", "g3"], won.size))
    found = findings_by_column(with_columns(simulated, categorical={"field_b": grade}))
    assert "warning:auc_outlier" in found["leads.field_b"]
    assert not any(kind.startswith("blocking") for kind in found["leads.field_b"])


def test_near_pure_level_warns(simulated: LeadDataset) -> None:
    rng = np.random.default_rng(2)
    won = won_mask(simulated)
    # A level held by 60 leads, all won; the rest random.
    values = rng.choice(["a", "b", "c"], won.size).astype(object)
    values[np.flatnonzero(won)[:60]] = "k"
    found = findings_by_column(with_columns(simulated, categorical={"field_c": values}))
    assert "warning:near_pure_level" in found["leads.field_c"]
    assert all(kind.startswith("warning") for kind in found["leads.field_c"])


def test_missingness_that_depends_on_sales_progress_warns(simulated: LeadDataset) -> None:
    rng = np.random.default_rng(3)
    status = simulated.leads["lead_id"].map(simulated.outcomes.set_index("lead_id")["status"].astype(str))
    # Filled in for most leads sales has closed (won or lost), rarely for open ones; values are noise.
    closed = status.isin(["won", "lost"]).to_numpy()
    filled = rng.random(closed.size) < np.where(closed, 0.9, 0.1)
    values = np.where(filled, rng.normal(size=closed.size), np.nan)
    found = findings_by_column(with_columns(simulated, numeric={"field_d": values}))
    assert "warning:progress_missingness" in found["leads.field_d"]
    report = audit_dataset(with_columns(simulated, numeric={"field_d": values}), ["field_d"])
    assert report.blocking_columns == []


def test_values_reading_as_sales_actions_warn(simulated: LeadDataset) -> None:
    rng = np.random.default_rng(4)
    texts = ["Called - no answer", "Proposal sent", "Meeting scheduled", "Closed won", "Rückruf vereinbart"]
    values = rng.choice(texts, len(simulated.leads))
    found = findings_by_column(with_columns(simulated, categorical={"field_e": values}))
    assert "warning:sales_vocabulary" in found["leads.field_e"]


def test_sales_vocabulary_spares_honest_values() -> None:
    for honest in (
        "organic_search",
        "paid_search",
        "demo_request",
        "Returning_Visitor",
        "blue-collar",
        "success",
    ):
        assert sales_words(honest) == [], honest
    assert sales_words("A_DECLINED") == ["declined"]
    assert sales_words("Négociation en cours") == ["negociation"]


def test_values_changed_after_the_close_block(simulated: LeadDataset) -> None:
    rng = np.random.default_rng(5)
    dataset = with_columns(simulated, categorical={"field_f": rng.choice(["x", "y"], len(simulated.leads))})
    closed = simulated.outcomes.dropna(subset=["closed_at"])
    # The history shows field_f rewritten a day after the close for half of the closed leads, and a
    # change before the hand-over (harmless) for the others.
    late = closed.sample(frac=0.5, random_state=0)
    early = closed.drop(late.index)
    history = pd.concat(
        [
            pd.DataFrame(
                {
                    "lead_id": late["lead_id"],
                    "field": "field_f",
                    "changed_at": late["closed_at"] + pd.Timedelta(days=1),
                }
            ),
            pd.DataFrame(
                {
                    "lead_id": early["lead_id"],
                    "field": "source",
                    "changed_at": early["closed_at"] - pd.Timedelta(days=400),
                }
            ),
        ]
    )
    dataset.profile_history = history
    report = audit_dataset(dataset, dataset.metadata.profile_columns)
    assert report.blocking_columns == ["leads.field_f"]
    (finding,) = [f for f in report.findings if f.blocking]
    assert finding.kind == FindingKind.CHANGED_AFTER_OUTCOME and "history" in finding.evidence
    accepted = report.with_acceptance(("leads.field_f",))
    assert accepted.blocking_columns == [] and accepted.findings[-1].accepted


def test_model_checks_block_on_dominance_ceiling_and_after_contact_use() -> None:
    contributions = pd.DataFrame(
        {
            "f_a": [3.0, -3.0],
            "f_b": [0.5, -0.5],
            "f_c": [0.4, 0.4],
            "x_7d": [0.3, 0.1],
            "base_value": [1.0, 1.0],
        }
    )
    groups = {"f_a": "field_a", "f_b": "field_b", "f_c": "field_c", "x_7d": "site_visit"}
    importance = column_importance(contributions, groups, ["field_a", "field_b", "field_c"], ["site_visit"])
    assert importance.index[0] == "leads.field_a" and importance.iloc[0] == pytest.approx(3 / 4.1)
    assert "events.event_type=site_visit" in importance.index
    cfg = AuditSettings()
    found = model_findings(
        test_auc=0.97,
        importance=importance,
        used_columns=["field_a", "field_g"],
        after_contact=["field_g"],
        cfg=cfg,
    )
    kinds = {(f.key, f.kind) for f in found}
    assert ("leads.field_a", FindingKind.DOMINANT_COLUMN) in kinds
    assert ("leads.field_a", FindingKind.AUC_ABOVE_CEILING) in kinds
    assert ("leads.field_g", FindingKind.AFTER_CONTACT_USED) in kinds
    assert all(f.severity == Severity.BLOCKING for f in found)
    # Honest: importance spread over the columns, a realistic AUC, nothing declared after contact.
    spread = column_importance(
        contributions.assign(f_a=[0.5, -0.5]), groups, ["field_a", "field_b", "field_c"], []
    )
    assert (
        model_findings(test_auc=0.9, importance=spread, used_columns=["field_a"], after_contact=[], cfg=cfg)
        == []
    )
    # With only two columns one always carries half: no dominance finding.
    two = column_importance(contributions[["f_a", "f_b"]], groups, ["field_a", "field_b"], [])
    assert model_findings(test_auc=0.9, importance=two, used_columns=[], after_contact=[], cfg=cfg) == []
    # Where features of no single column (lead age) carry the bulk, the finding says so rather than
    # pointing at a minor column as the culprit.
    minor = pd.Series({"events.event_type=whitepaper": 0.08, "leads.field_a": 0.05})
    (ceiling,) = model_findings(
        test_auc=0.96, importance=minor, used_columns=[], after_contact=[], cfg=AuditSettings()
    )
    assert "is events.event_type=whitepaper (8%); 87% is carried by features of no single column" in (
        ceiling.evidence
    )
    assert "of no single column" not in next(
        f.evidence for f in found if f.kind == FindingKind.AUC_ABOVE_CEILING
    )
    # The data audit's ranking names the columns that alone nearly reach the model's score: the leak a
    # user should look at first, whatever the importances say.
    (named,) = model_findings(
        test_auc=0.99,
        importance=minor,
        used_columns=[],
        after_contact=[],
        cfg=AuditSettings(),
        single_column_auc={"leads.status_reason": 0.999, "leads.field_a": 0.7},
    )
    assert "alone, these columns separate won from not-won almost perfectly: leads.status_reason 0.999" in (
        named.evidence
    )
    assert "field_a 0.7" not in named.evidence
    # The ceiling is configurable.
    assert (
        model_findings(
            test_auc=0.97,
            importance=spread,
            used_columns=[],
            after_contact=[],
            cfg=AuditSettings(max_test_auc=0.98),
        )
        == []
    )


def test_unknown_known_at_is_named(simulated: LeadDataset) -> None:
    dataset = with_columns(
        simulated,
        numeric={"field_i": np.arange(len(simulated.leads)) % 7},
        known_at={"field_i": "unknown"},
    )
    found = findings_by_column(dataset)
    assert found["leads.field_i"] == {"warning:known_at_unknown"}


def test_columns_that_cannot_inform_any_model_warn_and_do_not_block(simulated: LeadDataset) -> None:
    n = len(simulated.leads)
    rng = np.random.default_rng(2)
    cities = np.array([f"city {i}" for i in range(n // 3)])  # three leads per city at most
    dataset = with_columns(
        simulated,
        categorical={
            "field_id": [f"row {i}" for i in range(n)],
            "field_city": rng.choice(cities, n),
            "field_country": ["DE"] * n,
            "field_regional": rng.choice(["north", "south", "east"], n),
        },
        numeric={"field_empty": np.full(n, np.nan), "field_count": rng.poisson(3, n)},
    )
    found = findings_by_column(dataset)
    assert found["leads.field_id"] == {"warning:identifier_like"}
    assert found["leads.field_city"] == {"warning:identifier_like"}
    assert found["leads.field_country"] == {"warning:constant_column"}
    assert found["leads.field_empty"] == {"warning:empty_column"}
    # A category with a few frequent values and a numeric column of many distinct counts are fine.
    assert "leads.field_regional" not in found and "leads.field_count" not in found
    report = audit_dataset(dataset, dataset.metadata.profile_columns)
    [identifier] = [f for f in report.findings if f.key == "leads.field_id"]
    assert f"100% of its {n:,} values occur in fewer than 20 rows" in identifier.evidence
    assert report.blocking_columns == []


def test_open_leads_count_all_their_events() -> None:
    from tests.training.features.test_snapshots import T0, make_dataset

    # Won leads had one "x" before their close, lost leads none, open leads three (no close to stop at);
    # lost leads without a close date two, which cannot be told from events after their close.
    leads = [
        {"id": f"{status}{i}", "created": 0, "status": status, "closed": 50 if status != "open" else None}
        for status in ("won", "lost", "open")
        for i in range(20)
    ] + [{"id": f"undated{i}", "created": 0, "status": "lost"} for i in range(10)]
    base = make_dataset(leads)
    per_lead = {"won": 1, "lost": 0, "open": 3}
    ids = [
        lead["id"]
        for lead in leads
        for _ in range(2 if lead["id"].startswith("undated") else per_lead[lead["status"]])
    ]
    events = pd.DataFrame(
        {
            "lead_id": pd.Series(ids, dtype="str"),
            "occurred_at": pd.Series([T0 + pd.Timedelta(days=10)] * len(ids), dtype="datetime64[ns, UTC]"),
            "event_type": pd.Series(["x"] * len(ids), dtype="category"),
        }
    )
    dataset = LeadDataset(base.leads, events, base.outcomes, base.metadata)
    report = audit_dataset(dataset, [])
    signal = next(s for s in report.top_columns if s.key == "events.event_type=x")
    # Uncounted, the open leads read as 0 events beside the lost ones ("0: 0% won of 40").
    assert {str(level) for level in signal.levels} == {
        "1: 100% won of 20",
        "0: 0% won of 30",
        "3: 0% won of 20",
    }
