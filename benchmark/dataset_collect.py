"""`plasticbench dataset collect`: D4RL-layout datasets built locally with the harness's own SAC.

The D4RL files cannot be downloaded here (scenarios.md §4.1), so the kinds are rebuilt the way D4RL
defines them (Fu et al. 2020, §5): `random` = a uniformly random policy; `expert` = a SAC policy at
the end of training; `medium` = the training snapshot whose evaluation return is closest to one third
of the expert's; `medium-replay` = everything SAC stored until that snapshot; `medium-expert` = the
medium rows followed by as many expert rows. Rollouts use the stochastic policy (D4RL's data come
from sampling the policy). The file's metadata records what a reader needs to judge it: the policy's
evaluation return, the dataset's own mean episode return, sizes, seed, harness version, content hash.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.benchmark.config import HARNESS_VERSION
from plasticbench.benchmark.runner import EVAL_SEED_OFFSET, EnvSteps
from plasticbench.envs.evaluation import evaluate_policy
from plasticbench.envs.mujoco import single_task_scenario
from plasticbench.envs.offline import D4RL_REFERENCE, KINDS, dataset_path, write_d4rl
from plasticbench.envs.task import Task
from plasticbench.methods.ft1 import FT1

SNAPSHOTS = 20  # evaluations (and kept policies) over SAC's training, to choose the medium policy from
EVAL_EPISODES = 5
LEARNING_STARTS_FRACTION = 0.1  # uniform-random warm-up: 10% of training, at most SAC's usual 5,000 steps


@dataclass
class Snapshot:
    step: int  # env steps of training behind this policy
    eval_return: float
    actor: dict


def _rows(source: EnvSteps, steps: int) -> dict[str, np.ndarray]:
    """`steps` D4RL rows from seed 0 of `source`: obs acted on, action, reward, terminal, timeout."""
    out: dict[str, list] = {k: [] for k in ("observations", "actions", "rewards", "terminals", "timeouts")}
    for _ in range(steps):
        obs, action, result = source.step()
        for key, value in zip(out, (obs[0], action[0], result.reward[0], result.terminated[0], result.truncated[0])):
            out[key].append(value.cpu().numpy())
    return {k: np.stack(v).astype(bool if k in ("terminals", "timeouts") else np.float32) for k, v in out.items()}


def episode_return(rows: dict[str, np.ndarray]) -> float | None:
    """Mean return of the episodes that finish inside `rows` (None if none does)."""
    ends = np.flatnonzero(rows["terminals"] | rows["timeouts"])
    sums = np.split(rows["rewards"], ends + 1)[: len(ends)]
    return float(np.mean([s.sum() for s in sums])) if len(ends) else None


def _evaluate(learner: SAC, task: Task) -> float:
    return float(evaluate_policy(lambda obs: learner.policy_action(obs, False, 0), task, learner.seeds, EVAL_EPISODES,
                                 None, seed_offset=EVAL_SEED_OFFSET)[0])


def train(learner: SAC, task: Task, train_steps: int) -> tuple[list[Snapshot], dict[str, np.ndarray]]:
    """Train SAC for `train_steps` env steps; (policy snapshots with their returns, every training row)."""
    starts = min(5_000, math.ceil(LEARNING_STARTS_FRACTION * train_steps))
    source = EnvSteps(learner, task, None, starts)
    every = max(train_steps // SNAPSHOTS, 1)
    snapshots, parts = [], []
    for done in range(every, train_steps + every, every):
        parts.append(_rows(source, min(every, train_steps - (done - every))))
        snapshots.append(Snapshot(min(done, train_steps), _evaluate(learner, task), copy.deepcopy(learner.networks["actor"].state_dict())))
    source.close()
    return snapshots, {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def rollout(learner: SAC, task: Task, steps: int, random: bool) -> dict[str, np.ndarray]:
    """`steps` rows of the learner's stochastic policy (or uniform actions), never training it."""
    source = EnvSteps(learner, task, None, learning_starts=math.inf, random_warmup=random)
    try:
        return _rows(source, steps)
    finally:
        source.close()


def collect(env: str, kind: str, steps: int, train_steps: int, seed: int = 0, output: Path | None = None) -> Path:
    """Build the dataset `kind` for `env` and write it (default: the dataset folder's `<env>_<kind>.hdf5`)."""
    if env not in D4RL_REFERENCE:
        raise ValueError(f"unknown env {env!r}; allowed: {', '.join(D4RL_REFERENCE)}")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; allowed: {', '.join(KINDS)}")
    scenario = single_task_scenario(env)
    task = scenario.tasks[0]
    learner = SAC(SACConfig(buffer_size=max(train_steps, steps, 1)), scenario.obs_dim, scenario.act_dim, [seed], FT1())
    meta = {"source": "local", "env": env, "env_id": task.name, "kind": kind, "steps": steps, "seed": seed,
            "harness_version": HARNESS_VERSION, "learner": "sac"}
    if kind == "random":
        rows, policy_return = rollout(learner, task, steps, random=True), None
    else:
        snapshots, replay = train(learner, task, train_steps)
        expert = snapshots[-1]
        medium = min(snapshots, key=lambda s: abs(s.eval_return - expert.eval_return / 3))
        meta.update(train_steps=train_steps, expert_return=expert.eval_return, medium_return=medium.eval_return,
                    medium_step=medium.step)

        def of(snapshot: Snapshot) -> dict[str, np.ndarray]:
            learner.networks["actor"].load_state_dict(snapshot.actor)
            return rollout(learner, task, steps, random=False)

        if kind == "medium-replay":
            rows = {k: v[: medium.step] for k, v in replay.items()}
        elif kind == "medium-expert":
            parts = [of(medium), of(expert)]
            rows = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        else:
            rows = of(expert if kind == "expert" else medium)
        policy_return = {"expert": expert, "medium": medium, "medium-replay": medium}.get(kind, expert).eval_return
    meta.update(policy_return=policy_return, dataset_episode_return=episode_return(rows), rows=len(rows["rewards"]))
    path = Path(output) if output else dataset_path(env, kind)
    write_d4rl(path, rows, meta)
    return path
