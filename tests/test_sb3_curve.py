"""The SB3 learning-curve script: one evaluation per `eval_every` steps, bad input rejected before work."""
import pytest

from tools import sb3_curve


def test_curve_has_one_evaluation_per_interval(capsys):
    pytest.importorskip("stable_baselines3")  # the dev extra installs it
    curve = sb3_curve.sb3_curve("sac", "Pendulum-v1", steps=300, eval_every=150, learning_starts=100, seed=0, episodes=1)
    assert [step for step, _ in curve] == [150, 300]
    assert all(-2000.0 < value <= 0.0 for _, value in curve)  # Pendulum returns are in [-16.3 x 200, 0]
    assert "300 steps" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["steps=many"], ["speed=1"], ["seed"]])
def test_bad_input_exits_2(argv, capsys):
    assert sb3_curve.main(argv) == 2
    assert "error:" in capsys.readouterr().err
