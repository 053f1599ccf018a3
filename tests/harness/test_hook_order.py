"""A recording method proves every hook is called, in order, the expected number of times per task."""
import contextlib

from plasticbench.benchmark.registry import register_method
from plasticbench.benchmark.runner import run, updates_due
from plasticbench.methods.base import Method

CALLS: list[tuple[str, int]] = []


@register_method("recording_test", settings={"continual", "online"}, learners={"sac", "td3"})
class Recording(Method):
    def build(self, ctx, role, spec):
        CALLS.append(("build:" + role, -1))

    def on_task_start(self, ctx, task):
        CALLS.append(("on_task_start", task.index))

    def loss(self, ctx, role, batch):
        CALLS.append(("loss:" + role, ctx.task_index))

    def before_optimizer_step(self, ctx, role):
        CALLS.append(("before_optimizer_step:" + role, ctx.task_index))

    def after_update(self, ctx):
        CALLS.append(("after_update", ctx.task_index))

    def sample(self, ctx, buffer, batch_size):
        CALLS.append(("sample", ctx.task_index))

    def act(self, ctx, obs, explore):
        CALLS.append(("act", ctx.task_index))

    def on_task_end(self, ctx, task):
        CALLS.append(("on_task_end", task.index))

    @contextlib.contextmanager
    def evaluating(self, ctx, task_index):
        CALLS.append(("evaluating", task_index))
        yield


def test_hooks_are_called_in_order_and_counted_per_task(tiny_config):
    CALLS.clear()
    config = tiny_config("method=recording_test", "learner=td3", "suite=halfcheetah_forgetting", "seeds=1")
    run(config, progress=False)
    names = [name for name, _ in CALLS]
    assert names[:2] == ["build:actor", "build:critic"]
    budget, warmup, uniform = 150, config.scale.learning_starts, config.scale.random_steps
    ratio = config.learner_config.updates_per_step  # the scenario's [RN] ratio 0.5: one update every second step
    assert (ratio, uniform) == (0.5, 1)
    for task in range(8):
        calls = [name for name, index in CALLS if index == task and name != "evaluating"]
        assert calls[0] == "on_task_start" and calls[-1] == "on_task_end"
        updates = sum(updates_due(step, ratio) for step in range(warmup, budget))
        assert calls.count("after_update") == updates and calls.count("sample") == updates
        assert calls.count("loss:critic") == updates == calls.count("before_optimizer_step:critic")
        assert calls.count("loss:actor") in (updates // 2, (updates + 1) // 2)  # TD3's policy delay of 2
        assert calls.count("act") == (budget - uniform if task == 0 else budget)  # uniform steps on task 0 only
    evaluations = [index for name, index in CALLS if name == "evaluating"]
    assert evaluations[:2] == [0, 0]  # task 0 alone at steps 100 and 150
    assert sorted(set(evaluations)) == list(range(8))
