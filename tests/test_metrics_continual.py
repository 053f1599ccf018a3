"""Continual metrics against values computed by hand on a 3-task, 4-point evaluation log."""

import math

import numpy as np
import pytest

from plasticbench.benchmark.metrics.continual import (
    average_performance,
    continual_summary,
    forgetting,
    forward_transfer,
    model_size,
    task_auc,
)

NAN = np.nan
BOUNDS = [(0, 100), (100, 200), (200, 300)]
STEPS = np.array([50, 100, 150, 200, 250, 300])
PERF = np.array(  # [E=6, N=3]; mid-task rows evaluate the tasks seen so far, task-end rows every task
    [
        [0.2, NAN, NAN],
        [0.8, 0.1, 0.0],  # end of task 0: tasks 1 and 2 measured before they are trained
        [0.7, 0.4, NAN],
        [0.6, 0.9, 0.2],  # end of task 1
        [0.5, 0.8, 0.6],
        [0.5, 0.7, 1.0],  # end of the run
    ]
)
# Reference single-task runs: each task trained on [0, 100], evaluated at 50 and 100.
REF_STEPS = np.array([50, 100])
REF_BOUNDS = [(0, 100)] * 3
REF_PERF = np.array([[0.0, 0.2, 0.4], [0.4, 0.6, 1.0]])


def test_average_performance():
    assert average_performance(np.array([0.5, 0.7, 1.0])) == pytest.approx(2.2 / 3)


def test_forgetting_excludes_last_task():
    # (0.8 - 0.5 + 0.9 - 0.7) / 2; the last task's (1.0 - 0.0) is not counted
    assert forgetting(np.array([0.8, 0.9, 1.0]), np.array([0.5, 0.7, 0.0])) == pytest.approx(0.25)


def test_forgetting_single_task_is_nan():
    assert math.isnan(forgetting(np.array([0.8]), np.array([0.1])))


def test_task_auc_trapezoid_on_own_interval():
    assert task_auc(STEPS, PERF[:, 0], 0, 100) == pytest.approx(0.5)  # (0.2 + 0.8) / 2
    assert task_auc(STEPS, PERF[:, 1], 100, 200) == pytest.approx(0.65)  # (0.4 + 0.9) / 2; 0.1 at 100 is task 0's end
    assert task_auc(STEPS, PERF[:, 2], 200, 300) == pytest.approx(0.8)  # (0.6 + 1.0) / 2
    assert task_auc(REF_STEPS, REF_PERF[:, 2], 0, 100) == pytest.approx(0.7)  # (0.4 + 1.0) / 2


def test_task_auc_does_not_extend_the_first_evaluation_back_to_the_task_start():
    steps = np.array([0, 50, 100, 150])
    values = np.array([5.0, 0.2, 0.6, 9.0])  # the point at the start belongs to the previous task
    assert task_auc(steps, values, 0, 100) == pytest.approx(0.4)  # extended back, it would be 0.3
    assert task_auc(np.array([20, 40, 60]), np.array([0.2, NAN, 0.6]), 0, 100) == pytest.approx(0.4)
    assert task_auc(np.array([100]), np.array([0.7]), 0, 100) == pytest.approx(0.7)  # one point: its value


def test_task_auc_nan_without_points_and_rejects_empty_interval():
    assert math.isnan(task_auc(STEPS, PERF[:, 2], 300, 400))
    with pytest.raises(ValueError, match="end > start"):
        task_auc(STEPS, PERF[:, 0], 100, 100)


def test_forward_transfer_excludes_reference_at_ceiling():
    auc = np.array([0.4, 0.55, 0.65])
    ref = np.array([0.2, 0.5, 1.0])
    # ((0.4 - 0.2) / 0.8 + (0.55 - 0.5) / 0.5) / 2; task 2 excluded (1 - AUC_ref = 0)
    assert forward_transfer(auc, ref) == pytest.approx(0.175)
    assert math.isnan(forward_transfer(np.array([0.3]), np.array([1.0])))


def test_model_size():
    assert model_size(300, 100) == 3.0
    with pytest.raises(ValueError, match="positive"):
        model_size(300, 0)


def test_continual_summary_hand_values():
    out = continual_summary(PERF, STEPS, BOUNDS, REF_PERF, REF_STEPS, REF_BOUNDS)
    assert set(out) == {"average_performance", "forgetting", "forward_transfer"}
    assert out["average_performance"] == pytest.approx(2.2 / 3)
    assert out["forgetting"] == pytest.approx(0.25)  # p(t_i) = 0.8, 0.9 read at steps 100, 200
    # AUC 0.5, 0.65, 0.8 against 0.2, 0.4, 0.7: (0.3 / 0.8 + 0.25 / 0.6 + 0.1 / 0.3) / 3
    assert out["forward_transfer"] == pytest.approx((0.375 + 0.25 / 0.6 + 0.1 / 0.3) / 3)


def test_continual_summary_without_reference():
    assert continual_summary(PERF, STEPS, BOUNDS)["forward_transfer"] is None


def test_continual_summary_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\[E, N\]"):
        continual_summary(PERF[:, :2], STEPS, BOUNDS)
