"""ctx.rollout: methods try policies in environments from inside a hook (ARCHITECTURE.md, the method
contract). Per-seed independent, counted per task, charged steps taken out of the task's budget."""
import pytest
import torch

from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.benchmark.registry import register_method
from plasticbench.benchmark.rollouts import Rollouts
from plasticbench.benchmark.runner import run
from plasticbench.envs import get_scenario
from plasticbench.methods.base import Method
from tests.methods.test_continual_baselines import FakeTask


def policy(obs):
    weight = torch.randn(obs.shape[-1], 3, generator=torch.Generator().manual_seed(0))
    return torch.tanh(obs @ weight)


@pytest.mark.parametrize("steps", [None, 30])  # the evaluation protocol (Hopper falls: uneven lengths), fixed steps
def test_a_seed_plays_the_same_alone_or_among_others_and_the_steps_are_counted(steps):
    task = get_scenario("hopper").tasks[0]
    many, many_steps = Rollouts([3, 7, 11], 40, 2)(task, policy, steps, seed_offset=5)
    alone, alone_steps = Rollouts([7], 40, 2)(task, policy, steps, seed_offset=5)
    assert many[1] == alone[0] and many_steps[1] == alone_steps[0]
    assert many_steps == ([30] * 3 if steps else many_steps) and all(0 < n <= 80 for n in many_steps)
    other, _ = Rollouts([7], 40, 2)(task, policy, steps, seed_offset=6)
    assert other[0] != alone[0]  # another call, another environment stream


def test_learner_rollout_numbers_its_calls_and_tallies_steps_per_task_and_kind():
    learner = SAC(SACConfig(hidden=(8,), buffer_size=1), 11, 3, [0, 1], Method())
    with pytest.raises(RuntimeError, match="inside a run"):
        learner.rollout(FakeTask(0), policy)
    calls = []
    learner.rollouts = lambda task, pol, steps, seed_offset: (calls.append(seed_offset) or torch.zeros(2), [steps, steps])
    learner.rollout(FakeTask(0), policy, 5)
    learner.task_index = 1
    learner.rollout(FakeTask(1), policy, 7, charged=True)
    learner.rollout(FakeTask(1), policy, 2)
    assert calls == [20_000, 20_001, 20_002]
    assert learner.rollout_steps == {0: {"charged": [0, 0], "uncharged": [5, 5]},
                                     1: {"charged": [7, 7], "uncharged": [2, 2]}}
    state = learner.state_dict()
    fresh = SAC(SACConfig(hidden=(8,), buffer_size=1), 11, 3, [0, 1], Method())
    fresh.load_state_dict(state)
    assert fresh.rollout_calls == 3 and fresh.rollout_steps == learner.rollout_steps


@register_method("rollout_probe_test", settings={"continual"}, learners={"sac"})
class RolloutProbe(Method):
    """Reserves 10 steps of every task and spends `spend` of them at the task's end."""
    spend = 10
    seen: list = []

    def reserved_steps(self, ctx, task, budget):
        return 10

    def on_task_end(self, ctx, task):
        RolloutProbe.seen.append(ctx.env_steps)
        ctx.rollout(task, lambda obs: ctx.policy_action(obs, False, 0), RolloutProbe.spend, charged=True)


def test_charged_rollouts_come_out_of_the_budget_and_overspending_is_an_error(tiny_config, tmp_path):
    options = ("method=rollout_probe_test", "suite=halfcheetah_forgetting", "seeds=1", "scale.steps_per_task=30",
               "scale.eval_every=30", "scale.learning_starts=10")
    RolloutProbe.seen, RolloutProbe.spend = [], 10
    record = run(tiny_config(*options), progress=False)
    assert RolloutProbe.seen[:2] == [20, 40]  # 30 - 10 reserved training steps per task
    assert record["rollout_steps"]["charged"] == [[10]] * 8 and record["rollout_steps"]["uncharged"] == [[0]] * 8
    assert record["task_bounds"][1] == [30, 60]
    RolloutProbe.spend = 11
    with pytest.raises(RuntimeError, match="spent 11 charged rollout steps on task 0 but reserved 10"):
        run(tiny_config(*options, results_dir=tmp_path / "over"), progress=False)
    short = tiny_config(*options[:-2], "scale.steps_per_task=10", results_dir=tmp_path / "short")
    with pytest.raises(ValueError, match="reserved 10 rollout steps of task 0's budget 10"):
        run(short, progress=False)
    assert not (tmp_path / "short").exists() or not any((tmp_path / "short").rglob("*.pt"))  # before any work
