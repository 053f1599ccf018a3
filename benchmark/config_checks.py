"""Bad values, caught before any work, each as one line naming what was given and what is allowed.

Hydra and OmegaConf check types of the typed nodes (method, learner) but answer in several lines,
and the scale node, seeds and device are plain values they cannot check; a value that passes
here but breaks the run later (eval_every=0 divides by zero, batch_size=-3 fails deep in the
buffer, device=cuda on a CPU-only torch fails on the first tensor) is caught here instead.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

# scale fields that are counts: (smallest allowed value, None allowed)
SCALE_COUNTS = {"eval_every": (1, False), "eval_episodes": (1, False), "checkpoint_every": (1, False),
                "seeds": (1, False), "learning_starts": (0, False), "episode_length": (1, True),
                "steps_per_task": (1, True), "envs_per_seed": (1, False)}
LEARNER_COUNTS = ("batch_size", "buffer_size", "policy_delay", "target_delay")
UNIT_INTERVAL = ("gamma", "tau")  # discount and Polyak rate: [0, 1]


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def seed_list(value: Any, default_count: int) -> tuple[int, ...]:
    """`seeds=N` (seeds 0..N-1), a list of distinct integers, or None (the scale's count)."""
    allowed = "a positive integer N (seeds 0..N-1) or a list of distinct non-negative integers like [3,7]"
    if value is None:
        return tuple(range(default_count))
    if is_int(value) and value >= 1:
        return tuple(range(value))
    if isinstance(value, (list, tuple)) and value and all(is_int(s) and s >= 0 for s in value) \
            and len(set(value)) == len(value):
        return tuple(value)
    raise ValueError(f"seeds={value!r}; allowed: {allowed}")


def check_device(device: Any) -> None:
    """cpu, cuda or cuda:N, and CUDA only where this torch build and machine have it."""
    import torch

    name = str(device)
    if name != "cpu" and name != "cuda" and not (name.startswith("cuda:") and name[5:].isdigit()):
        raise ValueError(f"device={name!r}; allowed: cpu, cuda, cuda:N")
    if name == "cpu":
        return
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        build = "a CPU-only torch build" if torch.version.cuda is None else "no visible CUDA device"
        raise ValueError(f"device={name!r} but this machine has {build} (torch {torch.__version__}); allowed: cpu")
    if name.startswith("cuda:") and int(name[5:]) >= count:
        raise ValueError(f"device={name!r}; allowed: cpu, cuda, cuda:0..cuda:{count - 1}")


def _count(key: str, value: Any, low: int, optional: bool) -> None:
    if optional and value is None:
        return
    if not is_int(value) or value < low:
        raise ValueError(f"{key}={value!r}; allowed: an integer >= {low}" + (" or null" if optional else ""))


def check_scale(values: dict) -> None:
    for key, (low, optional) in SCALE_COUNTS.items():
        if key in values:
            _count(f"scale.{key}", values[key], low, optional)


def check_numbers(config: Any, prefix: str) -> None:
    """Every float of a config dataclass finite; learner counts positive, rates in [0, 1], lrs > 0."""
    for f in dataclasses.fields(config):
        value, key = getattr(config, f.name), f"{prefix}.{f.name}"
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{key}={value!r}; allowed: a finite number")
        if prefix == "learner" and f.name in LEARNER_COUNTS:
            _count(key, value, 1, False)
        if prefix == "learner" and f.name in UNIT_INTERVAL and not 0.0 <= value <= 1.0:
            raise ValueError(f"{key}={value!r}; allowed: a number in [0, 1]")
        if prefix == "learner" and f.name.endswith("_lr") and not value > 0:
            raise ValueError(f"{key}={value!r}; allowed: a positive number")
        if prefix == "learner" and f.name == "hidden" and not (value and all(is_int(h) and h >= 1 for h in value)):
            raise ValueError(f"{key}={list(value)!r}; allowed: a non-empty list of positive layer widths like [256,256]")


def explain(error: BaseException) -> str:
    """One line for a bad-input error: Hydra's and OmegaConf's multi-line messages are reduced to
    the key, the value's problem and, for an unknown key, the keys allowed there."""
    from omegaconf.errors import ConfigAttributeError, OmegaConfBaseException

    cause = error if isinstance(error, OmegaConfBaseException) else error.__cause__
    if isinstance(cause, OmegaConfBaseException):
        key, first = getattr(cause, "full_key", None), str(cause).strip().splitlines()[0]
        if isinstance(cause, ConfigAttributeError) and dataclasses.is_dataclass(getattr(cause, "object_type", None)):
            allowed = sorted(f.name for f in dataclasses.fields(cause.object_type) if f.name != "name")
            return f"unknown key {key}; allowed: {', '.join(allowed) or '(none)'}"
        return f"{key}: {first}" if key else first
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def check_envs_per_seed(envs_per_seed: int, scenario: Any) -> None:
    """Several environments per seed feed an online, single-task-at-a-time loop with vector
    observations: offline data has no environment to widen, a multitask step already plays one
    environment of every task per seed, and Atari's replay stacks frames of consecutive steps of one
    environment (baselines/frame_replay.py), which interleaved environments would break."""
    kinds = {"offline": scenario.offline_data is not None, "multitask": scenario.multitask,
             "Atari": scenario.discrete_actions}
    kind = next((k for k, v in kinds.items() if v), None)
    if envs_per_seed > 1 and kind is not None:
        raise ValueError(f"scale.envs_per_seed={envs_per_seed} on {kind} suite {scenario.name!r}; allowed: 1")
