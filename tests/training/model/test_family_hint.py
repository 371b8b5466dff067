"""The run note that points to the linear family when the logistic baseline beats a served tree model."""

from __future__ import annotations

from training.model.family_hint import linear_family_hint

ALL = ("linear", "trees", "blend")


def test_a_served_blend_that_loses_to_the_baseline_gets_the_hint() -> None:
    note = linear_family_hint("blend", ALL, (-0.013, -0.028, 0.001), 0.005)
    assert note is not None
    assert "model minus baseline -0.013, paired 95% CI -0.028 to +0.001" in note
    assert 'candidates = ["linear"]' in note and "cannot choose the family" in note


def test_no_hint_when_the_model_ties_is_linear_or_linear_was_not_on_offer() -> None:
    assert linear_family_hint("trees", ALL, (-0.002, -0.004, 0.001), 0.005) is None  # within tolerance
    assert linear_family_hint("linear", ALL, (-0.013, -0.028, 0.001), 0.005) is None
    assert linear_family_hint("trees", ("trees",), (-0.013, -0.028, 0.001), 0.005) is None
    # Ahead of the baseline, only not surely so (small data): the baseline did not rank better.
    assert linear_family_hint("blend", ALL, (0.006, -0.008, 0.019), 0.005) is None
