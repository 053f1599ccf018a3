"""The run loop: tasks in order; collect with S seeds, update, evaluate, checkpoint, record.

for each task: learner.start_task -> method.on_task_start -> (act, step, store, update)*budget
(offline: one gradient step on the dataset per step of the budget, benchmark/offline_loop.py),
evaluating every task seen so far every `eval_every` steps -> method.on_task_end -> evaluating
every task of the scenario, seen or not (one row of the task x task matrix; continual-baselines.md
§1, [RN] run.py) -> checkpoint. The loop's whole state (learner, method, environments, curves,
position) is checkpointed every `checkpoint_every` steps and at every task end, so a killed run
resumes where it stopped and finishes with the same numbers it would have had uninterrupted.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from tqdm.auto import tqdm

from plasticbench.baselines.learner import Learner
from plasticbench.benchmark import registry
from plasticbench.benchmark.config import RunConfig
from plasticbench.benchmark.live.run_scalars import LiveRun
from plasticbench.benchmark.failures import one_line
from plasticbench.benchmark.memory_plan import plan_run, replay_capacity, require_fit
from plasticbench.benchmark.metrics.plasticity import plasticity_snapshot, probe_batch
from plasticbench.benchmark.offline_loop import DatasetUpdates, attach_dataset
from plasticbench.benchmark.record import build_record, task_bounds
from plasticbench.benchmark.rollouts import Rollouts
from plasticbench.benchmark.store import RunStore
from plasticbench.benchmark.success_evaluation import evaluate_success_tasks
from plasticbench.envs.atari import legal_action_masks
from plasticbench.envs.backends import evaluate_on_backend, make_vector_env
from plasticbench.envs.task import Task
from plasticbench.envs.vector import StepResult
from plasticbench.methods.base import Method

EVAL_SEED_OFFSET = 10_000  # evaluation envs get their own stream, apart from every training env


@dataclass
class RunState:
    """Where the loop is, and everything it has measured so far (checkpointed as a whole)."""

    task: int = 0
    step_in_task: int = 0
    eval_steps: list[int] = field(default_factory=list)  # global env step of each evaluation
    eval_returns: list[list[list[float] | None]] = field(default_factory=list)  # [E][N] -> [S] or None (unseen)
    eval_success: list[list[list[float] | None]] = field(default_factory=list)  # as eval_returns; success-mode suites only
    task_end_returns: dict[int, list[float]] = field(default_factory=dict)  # task -> [S] at the end of its training
    task_matrix: dict[int, list[list[float]]] = field(default_factory=dict)  # task k -> [N][S] on every task after k's end
    plasticity: list[dict[str, list[float]]] = field(default_factory=list)  # [E]: metric -> [S] (metrics-plasticity.md)
    max_model_size: int = 0
    diverged: dict[int, int] = field(default_factory=dict)  # seed -> env step it diverged at, read at evaluations
    rollout_steps: dict[int, dict[str, list[int]]] = field(default_factory=dict)  # task -> charged/uncharged -> [S]
    wall_time_s: float = 0.0
    env: dict | None = None


def updates_due(step: int, updates_per_step: float) -> int:
    """Gradient steps after the task's env step number `step` (0-based) at the update-to-data ratio:
    floor((step + 1) * r) - floor(step * r), so any `step` steps make floor(step * r) updates in all
    (r = 0.5: one every second step, [RN]'s 64 per 128 transitions) and a resumed run makes the same."""
    return updates_over(step, 1, updates_per_step)


def updates_over(first: int, count: int, updates_per_step: float) -> int:
    """Gradient steps due over the task's env steps first..first+count-1: the sum of `updates_due`,
    so collecting several environments per seed at once learns exactly as often per transition."""
    return math.floor((first + count) * updates_per_step + 1e-9) - math.floor(first * updates_per_step + 1e-9)


def crossed(before: int, after: int, every: int) -> bool:
    """Whether a loop step from `before` to `after` env steps passed a multiple of `every` (one step:
    `after % every == 0`)."""
    return after // every > before // every


def build(config: RunConfig) -> tuple[Learner, Method]:
    method_cls = registry.get_method(config.method)
    method = method_cls(config.method_config)
    learner_cls = registry.get_learner(config.learner)
    scenario = config.scenario
    learner_config = dataclasses.replace(config.learner_config, buffer_size=replay_capacity(config))
    legal = {"task_action_masks": legal_action_masks(scenario)} if learner_cls.discrete else {}
    learner = learner_cls(learner_config, scenario.obs_dim, scenario.act_dim, config.seeds, method,
                          num_tasks=len(scenario.tasks), device=config.device, multitask=scenario.multitask,
                          task_budgets=[config.budget(t) for t in scenario.tasks],
                          task_act_dims=[t.act_dim or scenario.act_dim for t in scenario.tasks], **legal)
    learner.event_snapshots = True
    learner.rollouts = Rollouts(config.seeds, config.scale.episode_length, config.scale.eval_episodes, learner.device)
    if scenario.offline_data:
        attach_dataset(config, learner)
    return learner, method


class EnvSteps:
    """Online training: each step acts, steps the S environments, stores the transitions, updates once warm.

    Uniform-random actions while the buffer holds fewer than `random_steps` transitions (default:
    `learning_starts`; `random_warmup`, default on the first task only, switches them on); after
    the warm-up, gradient steps at the learner's update-to-data ratio (`updates_per_step`):
    `updates_due(step)` of them, counted from `first_step` (a resumed task's position).

    With `envs_per_seed` = N > 1 (Rewire's brax code collects from 128 per seed) one loop step acts in
    all N environments of every seed, stores their N transitions per seed and then makes the gradient
    steps those N transitions are due (`updates_over`); the budget and the schedule stay counted in
    transitions. The N environments act one after another through `Learner.act`, so every method's
    acting hook (Rewire's per-step mode draw) sees one environment per seed as it always does, and
    the warm-up decision is taken once per loop step.
    """

    def __init__(self, learner: Learner, task: Task, episode_length: int | None, learning_starts: float,
                 env_state: dict | None = None, random_warmup: bool | None = None, random_steps: float | None = None,
                 first_step: int = 0, envs_per_seed: int = 1) -> None:
        self.learner, self.learning_starts, self.index = learner, learning_starts, first_step
        self.random_warmup = task.index == 0 if random_warmup is None else random_warmup
        self.random_steps = learning_starts if random_steps is None else random_steps
        self.width = envs_per_seed
        self.env = make_vector_env(task, learner.seeds, episode_length, learner.device, seed_offset=task.index,
                                   envs_per_seed=envs_per_seed)
        if env_state is None:
            self.obs = self.env.reset()
        else:
            self.env.load_state_dict(env_state)
            self.obs = self.env.obs

    def step(self) -> tuple[torch.Tensor, torch.Tensor, StepResult]:
        """(observation acted on, action, result) of one step of the S environments, then its updates."""
        warming_up = self.learner.buffer.size < self.learning_starts
        collected = self.collect()
        self._learn(warming_up, 1)
        return collected

    def advance(self, limit: int) -> int:
        """One loop step: min(envs_per_seed, limit) transitions per seed and their gradient steps; returns
        how many transitions per seed it stored (the last step of a task may use fewer than N)."""
        if self.width == 1:
            self.step()
            return 1
        warming_up, taken = self.learner.buffer.size < self.learning_starts, min(self.width, limit)
        self.collect_wide(taken)
        self._learn(warming_up, taken)
        return taken

    def _learn(self, warming_up: bool, taken: int) -> None:
        """The gradient steps `taken` new transitions per seed are due (none while the buffer warms up)."""
        if not warming_up:
            for _ in range(updates_over(self.index, taken, self.learner.config.updates_per_step)):
                self.learner.update()
        self.index += taken

    def collect_wide(self, count: int) -> None:
        """Act in each seed's N environments, step them together, and store the first `count`
        transitions of each seed (environment order)."""
        learner, obs = self.learner, self.obs  # [S, N, obs]
        uniform = self.random_warmup and learner.buffer.size < self.random_steps
        actions = []
        for j in range(self.width):
            learner.act_offset, learner.act_width = j, self.width
            actions.append(learner.random_action() if uniform else learner.act(obs[:, j], explore=True))
        learner.act_offset, learner.act_width = 0, 1
        action = torch.stack(actions, dim=1)
        result = self.env.step(action)
        for j in range(count):
            learner.observe(obs[:, j], action[:, j], result.reward[:, j], result.next_obs[:, j],
                            result.terminated[:, j], result.truncated[:, j])
        self.obs = result.obs

    def collect(self) -> tuple[torch.Tensor, torch.Tensor, StepResult]:
        """Act, step the S environments and store the transitions, without learning (a multitask step
        collects on every task before it learns, benchmark/multitask_loop.py)."""
        learner, obs = self.learner, self.obs
        uniform = self.random_warmup and learner.buffer.size < self.random_steps
        action = learner.random_action() if uniform else learner.act(obs, explore=True)
        result = self.env.step(action)
        learner.observe(obs, action, result.reward, result.next_obs, result.terminated, result.truncated)
        self.obs = result.obs
        return obs, action, result

    def state_dict(self) -> dict:
        return self.env.state_dict()

    def close(self) -> None:
        self.env.close()


def evaluate_tasks(config: RunConfig, learner: Learner, method: Method, upto: int) -> list[list[float] | None]:
    """Deterministic returns [S] on tasks 0..upto (the others None), each with the weights that answer for it."""
    tasks = config.scenario.tasks
    returns: list[list[float] | None] = [None] * len(tasks)
    for task in tasks[: upto + 1]:
        head = task.index if learner.num_heads > 1 else 0
        with method.evaluating(learner, task.index), learner.acting_on(task.index):
            scores = evaluate_on_backend(lambda obs: learner.policy_action(obs, False, head), task, config.seeds,
                                     config.scale.eval_episodes, config.scale.episode_length,
                                     seed_offset=EVAL_SEED_OFFSET + task.index, device=learner.device)
        returns[task.index] = scores.tolist()
    return returns


class Run:
    """One run of one configuration; `execute` resumes from the checkpoint if there is one."""

    def __init__(self, config: RunConfig, progress: bool = True) -> None:
        self.config, self.progress = config, progress
        self.store = RunStore(config.results_dir, config.run_id)
        if not self.store.has_record():
            require_fit(plan_run(config), config)  # refuse an oversized replay before allocating it
        self.learner, self.method = build(config)
        self.state = RunState()
        self.one_policy_params = self.learner.reference_policy_params()
        self.live = LiveRun(config, self.store.dir, config.scale.eval_every // 10) if config.loggers else None

    def execute(self) -> dict:
        if self.store.has_record():
            return self.store.load_record()
        self._resume()
        scenario = self.config.scenario
        tasks = scenario.tasks[:1] if scenario.multitask else scenario.tasks  # multitask: one phase, every task at once
        for task in tasks:
            self._reserved(task)
        bounds = task_bounds(self.config)
        total = bounds[-1][1]
        done = (bounds[self.state.task][0] if self.state.task < len(tasks) else total) + self.state.step_in_task
        with tqdm(total=total, initial=done, desc=f"{self.config.method}/{self.config.learner}/{self.config.suite}",
                  unit="step", disable=not self.progress, leave=False) as bar:
            while self.state.task < len(tasks):
                self._train_task(tasks[self.state.task], bar)
        if self.live:
            self.live.close()
        events = self.learner.events.record(self.method.event_kinds) if self.method.event_kinds else None
        record = build_record(self.config, self.state, self.one_policy_params, self.learner.critic_params(), events)
        record["method_summary"] = self.method.summary(self.learner)
        self.store.write_record(record)
        return self.store.load_record()  # what readers will see: JSON types, exactly as on disk

    def _train_task(self, task: Task, bar: tqdm) -> None:
        scale, state, learner = self.config.scale, self.state, self.learner
        reserved = self._reserved(task)
        budget, task_start = self.config.budget(task) - reserved, task_bounds(self.config)[task.index][0]
        if state.step_in_task == 0:
            learner.start_task(task.index)
            self.method.on_task_start(learner, task)
        resume = state.env if state.step_in_task > 0 else None
        source = self._source(task, resume)
        started = time.perf_counter()
        while state.step_in_task < budget:
            before = state.step_in_task
            state.step_in_task += source.advance(budget - before) if isinstance(source, EnvSteps) else _one(source)
            bar.update(state.step_in_task - before)
            if self.live:
                self.live.on_step(task_start + state.step_in_task, learner, state.step_in_task - before)
            if crossed(before, state.step_in_task, scale.eval_every) and state.step_in_task < budget:
                self._evaluate(task)
            if crossed(before, state.step_in_task, scale.checkpoint_every) and state.step_in_task < budget:
                state.wall_time_s += time.perf_counter() - started
                started = time.perf_counter()
                self._checkpoint(source.state_dict())
        # Consolidate, then evaluate: the task-end numbers are those of the agent that goes on to the
        # next task (PackNet's pruned and fine-tuned actor, as in the Rewire code), not of the one before.
        self.method.on_task_end(learner, task)
        self._account_rollouts(task, reserved)
        self._evaluate(task, every_task=True)
        state.max_model_size = max(state.max_model_size, self.method.model_size(learner))
        for ended in self.config.scenario.tasks if self.config.scenario.multitask else (task,):
            state.task_end_returns[ended.index] = state.eval_returns[-1][ended.index]
            state.task_matrix[ended.index] = state.eval_returns[-1]
        state.wall_time_s += time.perf_counter() - started
        state.task, state.step_in_task = state.task + 1, 0
        self._checkpoint(None)
        source.close()

    def _source(self, task: Task, resume: dict | None) -> Any:
        """What one step of the loop does: a gradient step on the dataset (offline), a step of every task's
        environments (multitask, benchmark/multitask_loop.py) or of the task's."""
        learner, scale, scenario = self.learner, self.config.scale, self.config.scenario
        if learner.offline:
            return DatasetUpdates(learner)
        if scenario.multitask:
            from plasticbench.benchmark.multitask_loop import MultitaskSteps  # it builds on EnvSteps

            return MultitaskSteps(learner, scenario.tasks, scale.episode_length, scale.learning_starts, resume,
                                  random_steps=scale.random_steps, first_step=self.state.step_in_task)
        return EnvSteps(learner, task, scale.episode_length, scale.learning_starts, resume,
                        random_steps=scale.random_steps, first_step=self.state.step_in_task,
                        envs_per_seed=scale.envs_per_seed)

    def _reserved(self, task: Task) -> int:
        """Steps of `task`'s budget the method keeps for charged rollouts; checked for every task before any work."""
        budget = self.config.budget(task)
        reserved = self.method.reserved_steps(self.learner, task, budget)
        if not 0 <= reserved < budget:
            raise ValueError(f"method {self.config.method!r} reserved {reserved} rollout steps of task {task.index}'s "
                             f"budget {budget}; allowed: 0 <= reserved < budget")
        return reserved

    def _account_rollouts(self, task: Task, reserved: int) -> None:
        """Copy the task's rollout tally into the record; charged steps may not exceed what was reserved."""
        tally = self.learner.rollout_steps.get(task.index)
        if tally is None:
            return
        if max(tally["charged"]) > reserved:
            raise RuntimeError(f"method {self.config.method!r} spent {max(tally['charged'])} charged rollout steps on "
                               f"task {task.index} but reserved {reserved} (Method.reserved_steps)")
        self.state.rollout_steps[task.index] = {kind: list(steps) for kind, steps in tally.items()}

    def _evaluate(self, task: Task, every_task: bool = False) -> None:
        """Evaluate the tasks seen so far (at a task's end: every task of the scenario) and probe."""
        task_start = task_bounds(self.config)[task.index][0]
        multitask = self.config.scenario.multitask
        upto = len(self.config.scenario.tasks) - 1 if every_task or multitask else task.index
        self.state.eval_steps.append(task_start + self.state.step_in_task)
        self.state.diverged = self.learner.diverged()  # the one host read of the divergence flags
        if self.config.success_mode is None:
            self.state.eval_returns.append(evaluate_tasks(self.config, self.learner, self.method, upto))
        else:  # Continual World: returns and success rates from the same episodes (benchmark/success_evaluation.py)
            returns, success = evaluate_success_tasks(self.config, self.learner, self.method, upto,
                                                      len(self.state.eval_steps) - 1, EVAL_SEED_OFFSET)
            self.state.eval_returns.append(returns)
            self.state.eval_success.append(success)
        returns = self.state.eval_returns[-1]
        # multitask: the method hears each seed's mean over the tasks (DAPD's freeze compares it with R_th)
        seen = [sum(r) / len(r) for r in zip(*returns)] if multitask else returns[task.index]
        self.method.on_evaluation(self.learner, task.index, seen)
        # Probe: a uniform sample of the current buffer from its own stream keyed by the evaluation's
        # index, so logging never moves the learner's RNG and a resumed run probes the same batch.
        probe = probe_batch(self.learner, draw=len(self.state.eval_steps) - 1)
        self.state.plasticity.append(plasticity_snapshot(self.learner, probe))
        if self.live:
            events = self.learner.events.totals(self.method.event_kinds) if self.method.event_kinds else None
            self.live.on_evaluation(self.state.eval_steps[-1], self.state.eval_returns[-1], self.state.plasticity[-1],
                                    task, events)

    def _checkpoint(self, env_state: dict | None) -> None:
        self.state.env = env_state
        self.store.save_checkpoint({"run_id": self.config.run_id, "state": asdict(self.state),
                                    "learner": self.learner.state_dict(replay=False), "method": self.method.state_dict()},
                                   replay=self.learner.buffer)  # the replay incrementally: what was added since the last one
        if self.live:
            self.live.on_checkpoint()

    def _resume(self) -> None:
        """Restore the newest checkpoint that can be read and restored; set aside each one that
        cannot (truncated, foreign, from incompatible code, a missing replay chunk) and start over
        from a fresh build, so a damaged file never fails the run on every retry. No checkpoint
        left: from scratch."""
        for path in self.store.checkpoints():
            try:
                self._restore(self.store.load_checkpoint(path, replay=self.learner.buffer))
                return
            except Exception as error:  # whatever torch.load or a state dict raises on a damaged file
                self.store.set_aside(path, one_line(error))
                self.learner, self.method = build(self.config)
                self.state = RunState()

    def _restore(self, checkpoint: dict[str, Any]) -> None:
        if checkpoint["run_id"] != self.config.run_id:
            raise ValueError(f"checkpoint belongs to run {checkpoint['run_id']}, not {self.config.run_id}")
        self.state = RunState(**checkpoint["state"])
        self.learner.load_state_dict(checkpoint["learner"])
        self.method.load_state_dict(checkpoint["method"])


def _one(source: Any) -> int:
    """A step of a source that takes one step per call (offline updates, a multitask step)."""
    source.step()
    return 1


def run(config: RunConfig, progress: bool = True) -> dict:
    """Run (or resume, or skip) one configuration and return its record."""
    return Run(config, progress).execute()
