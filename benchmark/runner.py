"""The run loop: tasks in order; collect with S seeds, update, evaluate, checkpoint, record.

for each task: learner.start_task -> method.on_task_start -> (act, step, store, update)*budget,
evaluating every task seen so far every `eval_every` steps and at the task's end ->
method.on_task_end -> checkpoint. The loop's whole state (learner, method, environments, curves,
position) is checkpointed every `checkpoint_every` steps and at every task end, so a killed run
resumes where it stopped and finishes with the same numbers it would have had uninterrupted.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from tqdm.auto import tqdm

from plasticbench.baselines.learner import Learner
from plasticbench.benchmark import registry
from plasticbench.benchmark.config import RunConfig
from plasticbench.benchmark.metrics.plasticity import plasticity_snapshot, probe_batch
from plasticbench.benchmark.record import build_record, task_bounds
from plasticbench.benchmark.store import RunStore
from plasticbench.envs.backends import evaluate_on_backend, make_vector_env
from plasticbench.envs.task import Task
from plasticbench.methods.base import Method

EVAL_SEED_OFFSET = 10_000  # evaluation envs get their own stream, apart from every training env


@dataclass
class RunState:
    """Where the loop is, and everything it has measured so far (checkpointed as a whole)."""

    task: int = 0
    step_in_task: int = 0
    eval_steps: list[int] = field(default_factory=list)  # global env step of each evaluation
    eval_returns: list[list[list[float] | None]] = field(default_factory=list)  # [E][N] -> [S] or None (unseen)
    task_end_returns: dict[int, list[float]] = field(default_factory=dict)  # task -> [S] at the end of its training
    plasticity: list[dict[str, list[float]]] = field(default_factory=list)  # [E]: metric -> [S] (metrics-plasticity.md)
    max_model_size: int = 0
    wall_time_s: float = 0.0
    env: dict | None = None


def build(config: RunConfig) -> tuple[Learner, Method]:
    method_cls = registry.get_method(config.method)
    method = method_cls(config.method_config)
    learner_cls = registry.get_learner(config.learner)
    scenario = config.scenario
    # Buffers are emptied at every task start (continual-baselines.md §1), so no task can use
    # more room than its own budget: cap the preallocation there.
    longest_task = max(config.budget(t) for t in scenario.tasks)
    learner_config = dataclasses.replace(config.learner_config, buffer_size=min(config.learner_config.buffer_size, longest_task))
    learner = learner_cls(learner_config, scenario.obs_dim, scenario.act_dim, config.seeds, method,
                          num_tasks=len(scenario.tasks), device=config.device)
    return learner, method


def evaluate_seen_tasks(config: RunConfig, learner: Learner, method: Method, upto: int) -> list[list[float] | None]:
    """Deterministic returns [S] on tasks 0..upto (unseen tasks None), each with the weights that answer for it."""
    tasks = config.scenario.tasks
    returns: list[list[float] | None] = [None] * len(tasks)
    for task in tasks[: upto + 1]:
        head = task.index if learner.num_heads > 1 else 0
        with method.evaluating(learner, task.index):
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
        self.learner, self.method = build(config)
        self.state = RunState()
        self.one_policy_params = self.learner.reference_policy_params()

    def execute(self) -> dict:
        if self.store.has_record():
            return self.store.load_record()
        if self.store.has_checkpoint():
            self._restore(self.store.load_checkpoint())
        tasks = self.config.scenario.tasks
        bounds = task_bounds(self.config)
        total = bounds[-1][1]
        done = (bounds[self.state.task][0] if self.state.task < len(tasks) else total) + self.state.step_in_task
        with tqdm(total=total, initial=done, desc=f"{self.config.method}/{self.config.learner}/{self.config.suite}",
                  unit="step", disable=not self.progress, leave=False) as bar:
            while self.state.task < len(tasks):
                self._train_task(tasks[self.state.task], bar)
        record = build_record(self.config, self.state, self.one_policy_params, self.learner.critic_params())
        self.store.write_record(record)
        return self.store.load_record()  # what readers will see: JSON types, exactly as on disk

    def _train_task(self, task: Task, bar: tqdm) -> None:
        scale, state, learner = self.config.scale, self.state, self.learner
        budget = self.config.budget(task)
        env = make_vector_env(task, self.config.seeds, scale.episode_length, learner.device, seed_offset=task.index)
        if state.step_in_task == 0:
            learner.start_task(task.index)
            self.method.on_task_start(learner, task)
            obs = env.reset()
        else:
            env.load_state_dict(state.env)
            obs = env.obs
        started = time.perf_counter()
        while state.step_in_task < budget:
            obs = self._step(env, obs, first_task=task.index == 0)
            state.step_in_task += 1
            bar.update(1)
            if state.step_in_task % scale.eval_every == 0 and state.step_in_task < budget:
                self._evaluate(task)
            if state.step_in_task % scale.checkpoint_every == 0 and state.step_in_task < budget:
                state.wall_time_s += time.perf_counter() - started
                started = time.perf_counter()
                self._checkpoint(env.state_dict())
        # Consolidate, then evaluate: the task-end numbers are those of the agent that goes on to the
        # next task (PackNet's pruned and fine-tuned actor, as in the Rewire code), not of the one before.
        self.method.on_task_end(learner, task)
        self._evaluate(task)
        state.max_model_size = max(state.max_model_size, self.method.model_size(learner))
        state.task_end_returns[task.index] = state.eval_returns[-1][task.index]
        state.wall_time_s += time.perf_counter() - started
        state.task, state.step_in_task = state.task + 1, 0
        self._checkpoint(None)
        env.close()

    def _step(self, env: Any, obs: torch.Tensor, first_task: bool) -> torch.Tensor:
        """Act, step the S environments, store the transitions, update once warm."""
        learner = self.learner
        warming_up = learner.buffer.size < self.config.scale.learning_starts
        action = learner.random_action() if warming_up and first_task else learner.act(obs, explore=True)
        result = env.step(action)
        learner.observe(obs, action, result.reward, result.next_obs, result.terminated, result.truncated)
        if not warming_up:
            learner.update()
        return result.obs

    def _evaluate(self, task: Task) -> None:
        task_start = task_bounds(self.config)[task.index][0]
        self.state.eval_steps.append(task_start + self.state.step_in_task)
        self.state.eval_returns.append(evaluate_seen_tasks(self.config, self.learner, self.method, task.index))
        # Probe: a uniform sample of the current buffer from its own stream keyed by the evaluation's
        # index, so logging never moves the learner's RNG and a resumed run probes the same batch.
        probe = probe_batch(self.learner, draw=len(self.state.eval_steps) - 1)
        self.state.plasticity.append(plasticity_snapshot(self.learner, probe))

    def _checkpoint(self, env_state: dict | None) -> None:
        self.state.env = env_state
        self.store.save_checkpoint({"run_id": self.config.run_id, "state": asdict(self.state),
                                    "learner": self.learner.state_dict(), "method": self.method.state_dict()})

    def _restore(self, checkpoint: dict[str, Any]) -> None:
        if checkpoint["run_id"] != self.config.run_id:
            raise ValueError(f"checkpoint belongs to run {checkpoint['run_id']}, not {self.config.run_id}")
        self.state = RunState(**checkpoint["state"])
        self.learner.load_state_dict(checkpoint["learner"])
        self.method.load_state_dict(checkpoint["method"])


def run(config: RunConfig, progress: bool = True) -> dict:
    """Run (or resume, or skip) one configuration and return its record."""
    return Run(config, progress).execute()
