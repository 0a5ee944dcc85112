"""Test rows outside the training range (evaluation/extrapolation.py): the distance, the rule, the error share."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayesprune.evaluation import extrapolation as ex

TRAIN = np.array([[0.0, 10.0], [1.0, 20.0], [0.5, 15.0]])


def test_excess_is_the_furthest_feature_in_training_ranges():
    test = np.array([[0.5, 15.0],     # inside
                     [1.5, 15.0],     # half a range above feature 0
                     [0.5, 5.0],      # half a range below feature 1
                     [-2.0, 40.0]])   # two ranges below feature 0, two above feature 1
    np.testing.assert_allclose(ex.excess(TRAIN, test), [0.0, 0.5, 0.5, 2.0])
    np.testing.assert_array_equal(ex.outside(TRAIN, test), [False, True, True, True])
    np.testing.assert_array_equal(ex.outside(TRAIN, test, margin=0.6), [False, False, False, True])


def test_a_feature_constant_in_training_counts_any_other_value():
    train = np.column_stack([TRAIN[:, 0], np.zeros(3)])
    far = ex.excess(train, np.array([[0.5, 0.0], [0.5, 1e-3]]))
    assert far[0] == 0.0 and np.isinf(far[1])
    info = ex.extrapolation("regression", train, np.array([[0.5, 0.0], [0.5, 1e-3]]), np.zeros(2),
                            {"full": np.array([0.1, 0.2])})
    assert info["rows_outside"] == 1 and info["constant_features_varied"] and info["max_excess"] is None


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(0.01, 100.0), shift=st.floats(-100.0, 100.0))
def test_excess_is_zero_on_training_rows_and_unchanged_by_rescaling_a_feature(seed, scale, shift):
    rng = np.random.default_rng(seed)
    train, test = rng.normal(size=(20, 3)), rng.normal(scale=2.0, size=(15, 3))
    assert np.all(ex.excess(train, train) == 0.0)
    moved_train, moved_test = train.copy(), test.copy()
    moved_train[:, 1] = moved_train[:, 1] * scale + shift
    moved_test[:, 1] = moved_test[:, 1] * scale + shift
    np.testing.assert_allclose(ex.excess(moved_train, moved_test), ex.excess(train, test), rtol=1e-6, atol=1e-9)


def test_error_share_regression_and_classification():
    test = np.array([[0.5, 15.0], [0.2, 12.0], [3.0, 15.0]])  # the last row is outside
    info = ex.extrapolation("regression", TRAIN, test, np.array([0.0, 0.0, 0.0]),
                            {"full": np.array([0.1, 0.1, 1.0]), "resampled": np.array([0.1, 0.1, 0.0])})
    assert info["rows_outside"] == 1 and info["test_rows"] == 3
    assert info["error_share"]["full"] == pytest.approx(1.0 / 1.02)
    assert info["error_share"]["resampled"] == 0.0
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.5, 0.5]])
    info = ex.extrapolation("classification", TRAIN, test, np.array([0, 0, 1]), {"full": probs})
    nll = -np.log([0.9, 0.8, 0.5])
    assert info["error_share"]["full"] == pytest.approx(nll[2] / nll.sum())


def test_describe_says_nothing_inside_and_one_line_outside():
    inside = ex.extrapolation("regression", TRAIN, TRAIN, np.zeros(3), {"full": np.ones(3)})
    assert inside["rows_outside"] == 0 and ex.describe(inside, "regression") is None
    info = ex.extrapolation("regression", TRAIN, np.array([[0.5, 15.0]] * 3 + [[3.0, 15.0]]), np.zeros(4),
                            {"full": np.array([0.1, 0.1, 0.1, 1.0]), "resampled": np.array([0.1, 0.1, 0.1, 0.4])})
    line = ex.describe(info, "regression")
    assert "1 of 4 test rows" in line and "2.0 training ranges" in line
    assert "97% of the full model's and 84% of the compact model's test squared error" in line


def test_bad_shapes_and_margin_are_named():
    with pytest.raises(ValueError, match="X_train"):
        ex.excess(TRAIN, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="margin"):
        ex.outside(TRAIN, TRAIN, margin=-0.1)


def test_the_report_prints_the_line_only_when_rows_lie_outside():
    from types import SimpleNamespace

    from bayesprune.report.markdown import extrapolation_lines

    outside = ex.extrapolation("regression", TRAIN, np.array([[3.0, 15.0]]), np.zeros(1), {"full": np.ones(1)})
    inside = ex.extrapolation("regression", TRAIN, TRAIN, np.zeros(3), {"full": np.ones(3)})
    assert extrapolation_lines(SimpleNamespace(extrapolation=inside, task="regression")) == []
    assert extrapolation_lines(SimpleNamespace(extrapolation=None, task="regression")) == []
    [line] = extrapolation_lines(SimpleNamespace(extrapolation=outside, task="regression"))
    assert line.startswith("1 of 1 test rows") and "100% of the full model's" in line


def test_rows_outside_that_carry_only_their_share_of_the_error_are_not_reported():
    test = np.array([[0.5, 15.0], [3.0, 15.0]])  # one row of two outside
    even = ex.extrapolation("regression", TRAIN, test, np.zeros(2), {"full": np.array([1.0, 1.0])})
    assert even["rows_outside"] == 1 and even["error_share"]["full"] == 0.5
    assert ex.describe(even, "regression") is None
    test = np.array([[0.5, 15.0]] * 9 + [[3.0, 15.0]])  # one row of ten outside, with 20% of the error: named
    heavy = ex.extrapolation("regression", TRAIN, test, np.zeros(10), {"full": np.array([1.0] * 9 + [1.5])})
    assert heavy["error_share"]["full"] == pytest.approx(2.25 / 11.25)
    assert ex.describe(heavy, "regression") is not None
    # 3 of 640 rows with 3% of the log loss: over twice their share of the rows, but no metric moves by 5%
    light = {**heavy, "rows_outside": 3, "test_rows": 640, "error_share": {"full": 0.02, "resampled": 0.03}}
    assert ex.describe(light, "classification") is None
    assert ex.describe({**light, "error_share": {"full": 0.02, "resampled": 0.06}}, "classification") is not None
    assert ex.describe({**light, "error_share": {"full": 0.09, "resampled": 0.06}}, "regression") is None
