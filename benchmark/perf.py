"""`plasticbench perf`: training throughput of our seed-batched learners, optionally against SB3.

What is timed, per configuration (one update per environment step, as SAC/TD3 train by default):
  1. `WARMUP_STEPS` random-action steps fill the replay buffer; untimed.
  2. `steps` steps of act -> env.step -> observe -> update; timed (env steps/s, seed-steps/s).
  3. `steps` calls of `update()` alone on the now-filled buffer; timed ("update only").
SB3 trains one seed per process, so the fair comparison is seed-steps/s (env steps/s x S).

A shared machine makes one measurement unreliable (issue #20: the same command gave 0.80x and 1.18x
on one day), so every configuration is measured `reps` times, interleaved (ours S=1, ours S=8, SB3,
ours S=1, ...), on both clocks (wall and the process's CPU time), and the tables print medians with
their spread (benchmark/perf_table.py). Each process uses `threads` torch threads, 1 by default:
two 2-thread processes on a 2-core machine measure contention, not code. The load average before
and after says whether the machine was quiet.

With `methods=a,b` each listed method is plugged into our learner and measured the same way, one row
per (method, S), next to plain fine-tuning (ft1, always measured): "cost vs ft1" is seconds per env
step with the method over seconds per env step with ft1 at the same S. Methods keep their default
configs, whose event periods (ReDo every 1,000 updates, Reset every 200k env steps, ...) may not
fire in a short window; `events=dense` shortens every event period so events fire while timed.
Schedules relative to the task budget (NE's growth interval, ...) are resolved against the scenario's
`scale=paper` budget, so each method acts at the frequency it has in a published-scale run, not at
the frequency a 500-step task would give it.

Each configuration runs in a fresh spawned process: peak RSS (`ru_maxrss`) is a process-wide
high-water mark that cannot be reset, so rows measured in one process would share a peak.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import multiprocessing
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

import torch

WARMUP_STEPS = 256
"""Random-action steps before timing; one SAC batch (256, Haarnoja et al. 2018 Table 1) fits in it."""
DEFAULT_STEPS = 200
"""Timed steps per phase: one repetition of S=1,8 plus SB3 takes about a minute on one core."""
DEFAULT_REPS = 3
"""Interleaved repetitions: the median of three drops one spoiled measurement; about 3 minutes for S=1,8 + SB3."""
DEFAULT_THREADS = 1
DEFAULT_ENV = "HalfCheetah-v5"
VS_CHOICES = ("sb3",)
DEVICES = ("cpu", "cuda")
EVENTS_CHOICES = ("dense",)
OPTION_KEYS = ("learner", "seeds", "vs", "steps", "device", "env", "methods", "events", "reps", "threads")
BASELINE_METHOD = "ft1"
DENSE_EVENTS = 4
"""events=dense: periodic events fire about this many times in each timed phase."""
DENSE_PERIOD_FIELDS = ("period", "grow_interval")
"""Config fields counted in updates or env steps (redo/reset `period`, ne `grow_interval`): set to steps // DENSE_EVENTS."""
DENSE_STEP_FIELDS = ("injection_step",)
"""Config fields naming one global env step (pi `injection_step`): set to the middle of the timed window."""
SB3_INSTALL = "pip install 'plasticbench[sb3]'"


@dataclass(frozen=True)
class PerfOptions:
    """The validated `plasticbench perf` command line."""

    learner: str
    seeds: tuple[int, ...]
    vs: str | None = None
    steps: int = DEFAULT_STEPS
    device: str = "cpu"
    env: str = DEFAULT_ENV
    methods: tuple[str, ...] = ()
    events: str | None = None
    reps: int = DEFAULT_REPS
    threads: int = DEFAULT_THREADS


# ----- input checks (all before any work) ----------------------------------------------------
def sb3_installed() -> bool:
    return importlib.util.find_spec("stable_baselines3") is not None


def _env_ids() -> list[str]:
    from plasticbench.envs.mujoco import SINGLE_TASK_ENV_IDS

    return sorted(SINGLE_TASK_ENV_IDS.values())


def _positive_int(key: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"{key}={value!r} must be a positive integer, e.g. {key}=8")
    return number


def _seed_counts(value: str) -> tuple[int, ...]:
    parts = [p.strip() for p in value.strip("[]").split(",")]
    if not value or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"seeds={value!r} must be a comma-separated list of positive integers, e.g. seeds=1,8")
    return tuple(int(p) for p in parts)


def parse_options(options: dict[str, str]) -> PerfOptions:
    """Check every option; a bad one is a ValueError naming it and the allowed values."""
    from plasticbench.benchmark.registry import get_learner, learner_names

    unknown = sorted(set(options) - set(OPTION_KEYS))
    if unknown:
        raise ValueError(f"unknown perf option(s) {unknown}; allowed: {', '.join(OPTION_KEYS)}")
    learner = options.get("learner")
    online = [name for name in learner_names() if not get_learner(name).offline and not get_learner(name).discrete]  # perf steps MuJoCo
    if learner not in online:
        raise ValueError(f"perf needs learner=NAME, got {learner!r}; allowed: {', '.join(online)} "
                         "(offline learners: python -m tools.offline_updates; dqn: python -m tools.dqn_speed)")
    if "seeds" not in options:
        raise ValueError("perf needs seeds=S1,S2,... (numbers of seeds trained at once), e.g. seeds=1,8")
    vs = options.get("vs") or None
    if vs is not None and vs not in VS_CHOICES:
        raise ValueError(f"unknown vs={vs!r}; allowed: {', '.join(VS_CHOICES)}")
    if vs == "sb3" and not sb3_installed():
        raise ValueError(f"vs=sb3 needs stable-baselines3, which is not installed; install it with: {SB3_INSTALL}")
    device = options.get("device", "cpu")
    if device not in DEVICES:
        raise ValueError(f"unknown device={device!r}; allowed: {', '.join(DEVICES)}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' but torch sees no CUDA device; allowed here: cpu")
    env = options.get("env", DEFAULT_ENV)
    if env not in _env_ids():
        raise ValueError(f"unknown env={env!r}; allowed: {', '.join(_env_ids())}")
    steps = _positive_int("steps", options["steps"]) if "steps" in options else DEFAULT_STEPS
    methods = _method_names(options["methods"], learner) if "methods" in options else ()
    events = options.get("events") or None
    if events is not None and events not in EVENTS_CHOICES:
        raise ValueError(f"unknown events={events!r}; allowed: {', '.join(EVENTS_CHOICES)}")
    if events is not None and not methods:
        raise ValueError(f"events={events} applies to methods=a,b,...; add methods=NAME (allowed: {', '.join(_all_methods())})")
    reps = _positive_int("reps", options["reps"]) if "reps" in options else DEFAULT_REPS
    threads = _positive_int("threads", options["threads"]) if "threads" in options else DEFAULT_THREADS
    return PerfOptions(learner, _seed_counts(options["seeds"]), vs, steps, device, env, methods, events, reps, threads)


def _all_methods() -> list[str]:
    from plasticbench.benchmark.registry import method_names

    return method_names()


def _method_names(value: str, learner: str) -> tuple[str, ...]:
    """The listed methods, each registered and declaring `learner`; duplicates dropped, order kept."""
    from plasticbench.benchmark.registry import get_method

    names = [p.strip() for p in value.strip("[]").split(",") if p.strip()]
    if not names:
        raise ValueError(f"methods={value!r} must be a comma-separated list of method names; allowed: {', '.join(_all_methods())}")
    for name in names:
        if name not in _all_methods():
            raise ValueError(f"unknown method {name!r} in methods=; allowed: {', '.join(_all_methods())}")
        if learner not in get_method(name).learners:
            fits = [m for m in _all_methods() if learner in get_method(m).learners]
            raise ValueError(f"method {name!r} does not support learner {learner!r} (it supports: "
                             f"{', '.join(sorted(get_method(name).learners))}); allowed with {learner}: {', '.join(fits)}")
    return tuple(dict.fromkeys(names))


def dense_params(method: str, steps: int) -> dict[str, int]:
    """Config overrides that make `method`'s structural events fire inside the timed window.

    Periods (redo `period` in updates, reset `period` in env steps, ne `grow_interval` in network
    steps) become steps // DENSE_EVENTS; pi's one `injection_step` (a global env step) lands in the
    middle of the timed train phase, after the WARMUP_STEPS untimed steps. Reset and pi key on env
    steps, so they fire in the train phase only, never in the update-only phase.
    """
    from plasticbench.benchmark.registry import get_method

    fields = {f.name for f in dataclasses.fields(get_method(method).Config)}
    period = max(1, steps // DENSE_EVENTS)
    params = {name: period for name in DENSE_PERIOD_FIELDS if name in fields}
    params.update({name: WARMUP_STEPS + max(1, steps // 2) for name in DENSE_STEP_FIELDS if name in fields})
    return params


# ----- measurements ---------------------------------------------------------------------------
def _task(env: str):
    from plasticbench.envs.catalog import get_scenario
    from plasticbench.envs.mujoco import SINGLE_TASK_ENV_IDS

    scenario = {env_id: name for name, env_id in SINGLE_TASK_ENV_IDS.items()}[env]
    return get_scenario(scenario).tasks[0]


def _peak_memory_mib(device: torch.device) -> tuple[float, str]:
    """(peak MiB, what was measured): CUDA allocator peak on a GPU, else the process's peak RSS."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20, "CUDA allocated"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return rss / (2**20 if sys.platform == "darwin" else 2**10), "RSS"


def _timed(fn: Callable[[], None], repeats: int, device: torch.device) -> tuple[float, float]:
    """(wall, CPU) seconds for `repeats` calls of fn, synchronizing CUDA so queued kernels are counted."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start, time.process_time() - cpu


def _result(impl: str, learner: str, seeds: int, steps: int, device: torch.device, env: str,
            train: tuple[float, float], update: tuple[float, float]) -> dict[str, Any]:
    peak, memory_kind = _peak_memory_mib(device)
    return {"impl": impl, "learner": learner, "seeds": seeds, "steps": steps, "device": device.type, "env": env,
            "train_wall_s": train[0], "train_cpu_s": train[1], "update_wall_s": update[0], "update_cpu_s": update[1],
            "env_steps_per_s": steps / train[0], "seed_steps_per_s": steps * seeds / train[0],
            "update_ms": 1e3 * update[0] / steps, "peak_memory_mib": peak, "memory_kind": memory_kind,
            "threads": torch.get_num_threads()}


@dataclass
class TrainingLoop:
    """Our learner in the timed loop: `train_step` acts, steps the S environments (`vec`), stores, updates."""

    agent: Any
    vec: Any
    train_step: Callable[[], None]

    def close(self) -> None:
        self.vec.close()


def training_loop(learner: str, seeds: int, steps: int, device: torch.device, env: str = DEFAULT_ENV,
                  method: str = BASELINE_METHOD, method_params: dict[str, Any] | None = None) -> TrainingLoop:
    """The loop `measure` times, after its untimed warm-up; dev tools profile the same loop (tools/loop_ops.py,
    tools/seed_ceiling.py)."""
    from plasticbench.benchmark.registry import get_learner, get_method
    from plasticbench.envs.vector import SeedVectorEnv

    cls = get_learner(learner)
    task = _task(env)
    # capacity = every transition this measurement adds, as the run loop caps it at the longest task
    config = dataclasses.replace(cls.Config(), buffer_size=WARMUP_STEPS + steps)
    vec = SeedVectorEnv(task, list(range(seeds)), None, device)
    method_cls = get_method(method)
    plugged = method_cls(method_cls.Config(**(method_params or {})))
    agent = cls(config, vec.obs_dim, vec.act_dim, seeds=list(range(seeds)), method=plugged, num_tasks=1,
                device=device, task_budgets=[task.budgets["paper"]])  # schedules at their paper-scale frequency
    obs = vec.reset()

    def env_step(action: torch.Tensor) -> None:
        nonlocal obs
        out = vec.step(action)
        agent.observe(obs, action, out.reward, out.next_obs, out.terminated, out.truncated)
        obs = out.obs

    def train_step() -> None:
        env_step(agent.act(obs, explore=True))
        agent.update()

    for _ in range(WARMUP_STEPS):
        env_step(agent.random_action())
    return TrainingLoop(agent, vec, train_step)


def measure(learner: str, seeds: int, steps: int, device: str, env: str = DEFAULT_ENV,
            method: str = BASELINE_METHOD, method_params: dict[str, Any] | None = None,
            threads: int | None = None) -> dict[str, Any]:
    """Throughput of our `learner` training `seeds` seeds at once on `env` (see the module docstring),
    with `method` (default ft1: plain fine-tuning) built from its Config with `method_params`.

    Peak memory is the calling process's; `main` calls this in a fresh process per row.
    `threads` sets torch's thread count for this process (None keeps it).
    """
    if threads is not None:
        torch.set_num_threads(threads)
    torch_device = torch.device(device)
    if torch_device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(torch_device)
    loop = training_loop(learner, seeds, steps, torch_device, env, method, method_params)
    train = _timed(loop.train_step, steps, torch_device)
    update = _timed(loop.agent.update, steps, torch_device)
    loop.close()
    row = _result("plasticbench", learner, seeds, steps, torch_device, env, train, update)
    return {**row, "method": method, "method_params": dict(method_params or {})}


# ----- Stable-Baselines3, with our hyperparameters ---------------------------------------------
def _sb3_common(config: Any, capacity: int) -> dict[str, Any]:
    """SB3 arguments shared by SAC and TD3, read from our config so both sides train the same agent."""
    from torch import nn

    if len({config.actor_lr, config.critic_lr, getattr(config, "alpha_lr", config.actor_lr)}) != 1:
        raise ValueError(f"SB3 takes one learning rate; our config has actor {config.actor_lr}, critic {config.critic_lr}")
    activations = {"relu": nn.ReLU}
    return {"learning_rate": config.actor_lr, "buffer_size": capacity, "learning_starts": WARMUP_STEPS,
            "batch_size": config.batch_size, "tau": config.tau, "gamma": config.gamma,
            "train_freq": 1, "gradient_steps": 1, "device": "cpu", "seed": 0, "verbose": 0,
            "policy_kwargs": {"net_arch": list(config.hidden), "activation_fn": activations[config.activation]}}


def _sb3_sac(config: Any, act_dim: int, capacity: int) -> tuple[type, dict[str, Any]]:
    from stable_baselines3 import SAC

    # "auto_1.0": learned temperature starting at alpha_0 (SB3 docs, SAC ent_coef)
    return SAC, {**_sb3_common(config, capacity), "ent_coef": f"auto_{config.init_temperature}",
                 "target_entropy": -config.target_entropy_multiplier * act_dim}


def _sb3_td3(config: Any, act_dim: int, capacity: int) -> tuple[type, dict[str, Any]]:
    import numpy as np
    from stable_baselines3 import TD3
    from stable_baselines3.common.noise import NormalActionNoise

    noise = NormalActionNoise(np.zeros(act_dim), config.exploration_noise * np.ones(act_dim))
    return TD3, {**_sb3_common(config, capacity), "action_noise": noise, "policy_delay": config.policy_delay,
                 "target_policy_noise": config.policy_noise, "target_noise_clip": config.noise_clip}


SB3_BUILDERS: dict[str, Callable[[Any, int, int], tuple[type, dict[str, Any]]]] = {"sac": _sb3_sac, "td3": _sb3_td3}


def sb3_model(learner: str, steps: int, env: str = DEFAULT_ENV, config: Any = None) -> tuple[Any, Any]:
    """(SB3 model, its gymnasium env) with our hyperparameters (`config`: a learner config, default the
    learner's), after the untimed warm-up, ready for `steps` timed steps; dev tools build the same model
    (tools/loop_ops.py, tools/seed_ceiling.py)."""
    import gymnasium
    from plasticbench.benchmark.registry import get_learner

    if learner not in SB3_BUILDERS:
        raise ValueError(f"no SB3 counterpart for learner {learner!r}; allowed: {', '.join(SB3_BUILDERS)}")
    gym_env = gymnasium.make(env)
    config = get_learner(learner).Config() if config is None else config
    algorithm, kwargs = SB3_BUILDERS[learner](config, gym_env.action_space.shape[0], WARMUP_STEPS + steps)
    model = algorithm("MlpPolicy", gym_env, **kwargs)
    model.learn(WARMUP_STEPS)  # random actions until learning_starts: the untimed warm-up
    return model, gym_env


def measure_sb3(learner: str, steps: int, env: str = DEFAULT_ENV, threads: int | None = None) -> dict[str, Any]:
    """The same measurement for SB3's SAC/TD3: one seed, CPU, one gradient step per env step."""
    if threads is not None:
        torch.set_num_threads(threads)
    model, gym_env = sb3_model(learner, steps, env)
    train = _timed(lambda: model.learn(steps, reset_num_timesteps=False), 1, torch.device("cpu"))  # trains once per step
    update = _timed(lambda: model.train(gradient_steps=1, batch_size=model.batch_size), steps, torch.device("cpu"))
    gym_env.close()
    return {**_result("sb3", learner, 1, steps, torch.device("cpu"), env, train, update), "method": BASELINE_METHOD}


# ----- the command --------------------------------------------------------------------------
def in_fresh_process(fn: Callable[..., Any], *args: Any) -> Any:
    """fn(*args) in a new spawned process, so its peak memory is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def load_average() -> str:
    """The 1/5/15-minute load averages, so a reader sees whether the machine was quiet."""
    if not hasattr(os, "getloadavg"):
        return "load average n/a"
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def _jobs(opts: PerfOptions) -> list[tuple[str, Callable[..., Any], tuple]]:
    """(label, function, arguments) of every configuration, in the order one repetition measures them."""
    methods = tuple(dict.fromkeys((BASELINE_METHOD, *opts.methods))) if opts.methods else (BASELINE_METHOD,)
    jobs = [(f"plasticbench {m} S={s}" if opts.methods else f"plasticbench S={s}", measure,
             (opts.learner, s, opts.steps, opts.device, opts.env, m,
              dense_params(m, opts.steps) if opts.events == "dense" else {}, opts.threads))
            for s in opts.seeds for m in methods]  # each method beside ft1 at the same S
    if opts.vs == "sb3":
        jobs.append(("sb3 S=1", measure_sb3, (opts.learner, opts.steps, opts.env, opts.threads)))
    return jobs


def _print_header(opts: PerfOptions) -> None:
    print(f"perf: {opts.learner} on {opts.env}, device {opts.device}, torch threads {opts.threads} per process, "
          f"{opts.reps} interleaved repetitions, one fresh process per row; {WARMUP_STEPS} untimed random steps, "
          f"then {opts.steps} timed steps with one update each; update = {opts.steps} updates on the filled buffer; "
          "cells are median [min-max] over repetitions; cpu = the process's CPU time", flush=True)
    if opts.methods and opts.events == "dense":
        print(f"methods: events=dense, event periods set to steps//{DENSE_EVENTS} and pi's injection to the "
              f"middle of the timed window (see 'overrides'); cost = s per env step / {BASELINE_METHOD}'s", flush=True)
    elif opts.methods:
        print("methods: default configs at their paper-scale schedule; periods longer than the window (e.g. reset "
              f"every 200k env steps) do not fire within {opts.steps} timed steps: add events=dense to time them; "
              f"cost = s per env step / {BASELINE_METHOD}'s", flush=True)


def main(options: dict[str, str]) -> list[dict[str, Any]]:
    """`plasticbench perf`: measure every configuration `reps` times, interleaved, print the tables, return the rows."""
    from plasticbench.benchmark.perf_table import format_method_table, format_table

    opts = parse_options(options)
    _print_header(opts)
    print(f"before: {load_average()}", flush=True)
    rows = []
    for rep in range(opts.reps):
        for label, fn, args in _jobs(opts):
            print(f"  [{rep + 1}/{opts.reps}] measuring {label} ...", flush=True)
            rows.append({**in_fresh_process(fn, *args), "label": label, "rep": rep})
    print(f"after: {load_average()}")
    print(format_table([r for r in rows if r.get("method", BASELINE_METHOD) == BASELINE_METHOD]))
    if opts.methods:
        print(format_method_table([r for r in rows if r["impl"] == "plasticbench"], BASELINE_METHOD))
    return rows
