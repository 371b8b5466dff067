"""Training targets: the ``[target]`` config, labels from the opportunity/accepted dates, refusal of a
target whose column is absent or empty, and the count of leads that reached the target after the horizon."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.training.features.test_snapshots import day, make_dataset, rows_of
from training.config import ConfigError, TrainConfig, load_train_config
from training.data.contract import ACCEPTED_AT, OPPORTUNITY_AT, TimeBasis
from training.features.labels import milestone_labels
from training.features.snapshots import SnapshotPolicy, build_snapshots
from training.features.targets import TargetUnavailableError, check_target_available
from training.features.timestamps import DAY_NS, NAT_NS


def _config(tmp_path: Path, text: str) -> TrainConfig:
    path = tmp_path / "train.toml"
    path.write_text(text)
    return load_train_config(path)


def with_dates(leads: list[dict[str, Any]], **kwargs: Any) -> Any:
    """``make_dataset`` plus the opportunity/accepted dates given per lead as ``opportunity``/``accepted``."""
    dataset = make_dataset(leads, **kwargs)
    for column, key in ((OPPORTUNITY_AT, "opportunity"), (ACCEPTED_AT, "accepted")):
        dataset.outcomes[column] = pd.Series([day(x.get(key)) for x in leads], dtype="datetime64[ns, UTC]")
    return dataset


# ------------------------------------------------------------------------------------------- config


def test_target_kind_and_horizon_per_target(tmp_path: Path) -> None:
    assert TrainConfig().target.kind == "won"
    assert TrainConfig().horizon_days == 90
    assert _config(tmp_path, '[target]\nkind = "opportunity"\n').horizon_days == 60
    assert _config(tmp_path, '[target]\nkind = "accepted"\n').horizon_days == 30
    config = _config(tmp_path, '[target]\nkind = "accepted"\nhorizon_days = 14\n')
    assert (config.target.kind, config.horizon_days) == ("accepted", 14)
    # The top-level key still sets the horizon of whichever target is chosen.
    assert _config(tmp_path, 'horizon_days = 180\n[target]\nkind = "opportunity"\n').horizon_days == 180
    assert TrainConfig.from_record(config.to_record()) == config


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[target]\nkindd = "won"\n',
            r"unknown key 'target\.kindd' \(known keys in \[target\]: kind, horizon_days",
        ),
        ('[target]\nkind = "signed"\n', r"key 'target\.kind': .*'won', 'opportunity' or 'accepted'"),
        ("[target]\nhorizon_days = 0\n", r"key 'target\.horizon_days'"),
        ('target = "opportunity"\n', r"key 'target': must be a table"),
        (
            'horizon_days = 90\n[target]\nkind = "opportunity"\nhorizon_days = 60\n',
            r"key 'target\.horizon_days': is 60 but the top-level horizon_days is 90; set the horizon in one",
        ),
    ],
)
def test_target_typos_and_conflicts_are_refused_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _config(tmp_path, text)


def test_command_line_overrides_of_target_and_horizon(tmp_path: Path) -> None:
    config = _config(tmp_path, '[target]\nkind = "opportunity"\nhorizon_days = 45\n')
    # --target with another kind: the file's horizon belonged to the file's kind.
    assert config.with_overrides(target="accepted").horizon_days == 30
    assert config.with_overrides(target="opportunity").horizon_days == 45
    # --horizon wins over the file's [target] horizon_days.
    overridden = config.with_overrides(horizon_days=120)
    assert (overridden.target.kind, overridden.horizon_days) == ("opportunity", 120)
    with pytest.raises(ConfigError, match=r"target\.kind"):
        config.with_overrides(target="signed")


# ------------------------------------------------------------------------------------------- labels


def test_milestone_labels_censoring_and_snapshots_after_the_milestone() -> None:
    horizon, end = 30 * DAY_NS, 200 * DAY_NS
    cutoff = np.array([0, 0, 0, 50, 180, 180, 0]) * DAY_NS
    reached = np.array([30, 31, NAT_NS // DAY_NS, 40, NAT_NS // DAY_NS, 190, 250]) * DAY_NS
    reached[[2, 4]] = NAT_NS
    closed = np.array([False, False, True, False, False, False, False])
    label, censored, after = milestone_labels(cutoff, reached, closed, horizon, end)
    # (cutoff, cutoff + horizon]: day 30 counts, day 31 not; a date after the end of data is not trusted.
    assert label.tolist() == [1, 0, 0, 0, 0, 1, 0]
    # Censored: horizon past the end, milestone not reached and the lead not closed.
    assert censored.tolist() == [False, False, False, False, True, False, False]
    assert after.tolist() == [False, False, False, True, False, False, False]


def test_each_target_labels_from_its_own_date() -> None:
    leads = [
        {"id": "a", "created": 0, "status": "won", "closed": 150, "accepted": 20, "opportunity": 60},
        {"id": "b", "created": 0, "status": "lost", "closed": 100, "accepted": 40},
    ]
    dataset = with_dates(leads)
    policy = SnapshotPolicy(every_days=7, horizon_days=30)
    won = build_snapshots(dataset, policy)
    assert rows_of(won, "a")["label"].sum() == 4  # cutoffs 126..147 see the win on day 150
    assert rows_of(won, "b")["label"].sum() == 0
    accepted = build_snapshots(dataset, SnapshotPolicy(every_days=7, horizon_days=30, target="accepted"))
    a = rows_of(accepted, "a")
    # Snapshots stop at the acceptance on day 20: cutoffs 0, 7, 14 all see it within 30 days.
    assert a["day"].tolist() == [0, 7, 14]
    assert a["label"].tolist() == [1, 1, 1]
    b = rows_of(accepted, "b")
    assert b["day"].tolist() == [0, 7, 14, 21, 28, 35]
    assert b["label"].tolist() == [0, 0, 1, 1, 1, 1]  # day 40 is in (cutoff, cutoff + 30] from day 14
    # Left out after the acceptance: a's cutoffs 21..147 (19), b's 42..98 (9).
    assert accepted.counts["after_target"] == 19 + 9
    opportunity = build_snapshots(
        dataset, SnapshotPolicy(every_days=7, horizon_days=30, target="opportunity")
    )
    assert rows_of(opportunity, "a")["label"].tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    # b never had an opportunity and closed: every snapshot is a known 0, none censored.
    assert rows_of(opportunity, "b")["label"].sum() == 0
    assert opportunity.censored_count == 0


def test_a_won_lead_without_the_target_date_is_counted_and_noted() -> None:
    leads = [
        {"id": "a", "created": 0, "status": "won", "closed": 50, "opportunity": 20},
        {"id": "b", "created": 0, "status": "won", "closed": 60},
    ]
    result = build_snapshots(with_dates(leads), SnapshotPolicy(horizon_days=30, target="opportunity"))
    assert result.counts["won_without_target_date"] == 1
    assert any("1 won leads have no opportunity_at" in note for note in result.notes)


# ------------------------------------------------------------------------------------------ late wins


def test_leads_won_after_the_horizon_are_counted() -> None:
    leads = [
        {"id": "late", "created": 0, "status": "won", "closed": 200},  # cutoffs 0..105 labelled 0
        {"id": "soon", "created": 0, "status": "won", "closed": 30},
        {"id": "lost", "created": 0, "status": "lost", "closed": 100},
        {"id": "just", "created": 0, "status": "won", "closed": 95},  # only cutoff 0 is 95 days before
    ]
    result = build_snapshots(make_dataset(leads, observed_until=400), SnapshotPolicy(horizon_days=90))
    assert result.counts["late_positive_leads"] == 2
    assert result.counts["late_positive_snapshots"] == 16 + 1
    late = rows_of(result, "late")
    assert (late["label"] == 0).sum() == 16
    assert result.notes == [
        "2 leads won after the 90-day horizon were labelled not-won at 17 of their snapshots; consider a "
        'longer horizon or target = "opportunity"'
    ]
    # A longer horizon labels them won: nothing left to report.
    longer = build_snapshots(make_dataset(leads, observed_until=400), SnapshotPolicy(horizon_days=210))
    assert longer.counts["late_positive_leads"] == 0
    assert longer.notes == []


# ---------------------------------------------------------------------------------- refusals


def test_a_target_without_its_column_is_refused_naming_file_and_column() -> None:
    leads = [{"id": "a", "created": 0, "status": "won", "closed": 50}]
    dataset = make_dataset(leads)
    check_target_available(dataset, "won", "outcomes.csv")
    with pytest.raises(TargetUnavailableError, match=r"'opportunity_at', which outcomes\.csv does not have"):
        check_target_available(dataset, "opportunity", "outcomes.csv")
    with pytest.raises(TargetUnavailableError, match="opportunity_at"):
        build_snapshots(dataset, SnapshotPolicy(target="opportunity"))
    empty = with_dates(leads)
    with pytest.raises(TargetUnavailableError, match=r"'accepted_at', which is empty in outcomes\.parquet"):
        check_target_available(empty, "accepted", "outcomes.parquet")
    row_order = with_dates(
        [{"id": "a", "status": "won", "accepted": None}], time_basis=TimeBasis.ROW_ORDER, with_events=False
    )
    with pytest.raises(TargetUnavailableError, match="needs timestamps"):
        check_target_available(row_order, "accepted", "leads.csv")
