"""`plasticbench`: list, run, suite, leaderboard, perf, new-method, dataset.

Arguments are Hydra-style `key=value` overrides. Every name and combination is checked before
any work starts; a bad one exits with status 2 and a message listing the allowed values.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Sequence

USAGE = """usage:
  plasticbench list methods|learners|suites
  plasticbench run method=NAME learner=NAME suite=NAME scale=smoke|short|paper seeds=N [results_dir=PATH] [device=cpu|cuda] [method.PARAM=VALUE ...]
  plasticbench suite scale=smoke|short|paper [suites=a,b] [methods=a,b] [learners=a,b] [results_dir=PATH] [seeds=N] [dry_run=true] [hydra/launcher=joblib|submitit_local|submitit_slurm|ray] [hydra.launcher.KEY=VALUE ...]
  plasticbench leaderboard [results_dir=PATH] [output=PATH] [figures=PATH] [draw=true|false] [jobs=N]
  plasticbench perf learner=sac seeds=1,8 [vs=sb3] [steps=N] [device=cpu|cuda] [env=HalfCheetah-v5]
  plasticbench new-method NAME
  plasticbench dataset collect env=hopper kind=random|medium|expert|medium-replay|medium-expert [steps=N] [train_steps=N] [seed=N] [output=PATH]"""


class UsageError(ValueError):
    """Bad command-line input; reported without a traceback."""


def split_options(args: Sequence[str], allowed: set[str]) -> dict[str, str]:
    """`key=value` pairs for commands that are not Hydra-composed; unknown keys are errors."""
    options = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep:
            raise UsageError(f"expected key=value, got {arg!r}; allowed keys: {', '.join(sorted(allowed))}")
        if key not in allowed:
            raise UsageError(f"unknown option {key!r}; allowed: {', '.join(sorted(allowed))}")
        options[key] = value
    return options


def _csv(value: str | None) -> list[str] | None:
    return [v for v in value.strip("[]").split(",") if v] if value else None


def cmd_list(args: Sequence[str]) -> None:
    from plasticbench.benchmark import registry
    from plasticbench.envs.catalog import get_scenario, scenario_names

    what = args[0] if args else ""
    if what == "methods":
        for name in registry.method_names():
            cls = registry.get_method(name)
            print(f"{name:12s} learners={','.join(sorted(cls.learners))} settings={','.join(sorted(cls.settings))}")
    elif what == "learners":
        print("\n".join(registry.learner_names()))
    elif what == "suites":
        for name in scenario_names():
            s = get_scenario(name)
            print(f"{name:24s} family={s.family} setting={s.setting} backend={s.backend} tasks={len(s.tasks)}")
    else:
        raise UsageError(f"list what? got {what!r}; allowed: methods, learners, suites")


def cmd_run(args: Sequence[str]) -> None:
    from plasticbench.benchmark.config import load_run_config
    from plasticbench.benchmark.runner import run

    config = load_run_config(list(args))
    record = run(config)
    print(f"run {record['run_id']}: scores per seed {record['scores']} ({record['normalization']['kind']}); "
          f"record in {Path(config.results_dir) / 'runs' / record['run_id']}")


def cmd_suite(args: Sequence[str]) -> None:
    from plasticbench.benchmark.suite import describe, grid, launch, plan

    grid_keys = {"scale", "suites", "methods", "learners", "dry_run"}
    options = {k: v for k, v in (a.partition("=")[::2] for a in args) if k in grid_keys}
    # `hydra/launcher=...` and `hydra.launcher.*` go to the engine (docs/engines.md), the rest to every run
    launcher = [a for a in args if a.lstrip("+~").startswith("hydra")]
    extra = [a for a in args if a.partition("=")[0] not in grid_keys and a not in launcher]
    if "scale" not in options:
        raise UsageError("suite needs scale=smoke|short|paper")
    the_plan = plan(grid(options["scale"], _csv(options.get("suites")), _csv(options.get("methods")),
                         _csv(options.get("learners")), extra))
    print(describe(the_plan, options["scale"]), flush=True)
    if options.get("dry_run", "false").lower() != "true":
        finished = launch(the_plan, launcher)
        print(f"suite done: {finished} of {len(the_plan.todo)} planned runs recorded")


def _bool(key: str, value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise UsageError(f"{key} must be true or false, got {value!r}")
    return value.lower() == "true"


def _positive_int(key: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise UsageError(f"{key} must be a positive integer, got {value!r}")
    return int(value)


def cmd_leaderboard(args: Sequence[str]) -> None:
    from plasticbench.benchmark.reporting.leaderboard import write_leaderboard

    options = split_options(args, {"results_dir", "output", "figures", "draw", "jobs"})
    draw = _bool("draw", options.get("draw", "true"))
    jobs = _positive_int("jobs", options["jobs"]) if "jobs" in options else None
    results_dir = Path(options.get("results_dir", "results"))
    if not results_dir.is_dir():
        raise UsageError(f"results_dir {str(results_dir)!r} is not a directory")
    path = write_leaderboard(results_dir, Path(options.get("output", "leaderboard.md")),
                             Path(options["figures"]) if "figures" in options else None, draw=draw, workers=jobs)
    print(f"wrote {path}")


def cmd_perf(args: Sequence[str]) -> None:
    from plasticbench.benchmark.perf import main as perf_main

    perf_main(split_options(args, {"learner", "seeds", "vs", "steps", "device", "env", "methods", "events"}))


def cmd_new_method(args: Sequence[str]) -> None:
    from plasticbench.benchmark.scaffold import new_method

    if len(args) != 1:
        raise UsageError("usage: plasticbench new-method NAME")
    for path in new_method(args[0], Path.cwd()):
        print(f"wrote {path}")


def cmd_dataset(args: Sequence[str]) -> None:
    """Build a D4RL-layout dataset with the harness's SAC (benchmark/dataset_collect.py)."""
    from plasticbench.benchmark.dataset_collect import collect

    if not args or args[0] != "collect":
        raise UsageError(f"dataset what? got {args[0] if args else ''!r}; allowed: collect")
    options = split_options(args[1:], {"env", "kind", "steps", "train_steps", "seed", "output"})
    for key in ("env", "kind"):
        if key not in options:
            raise UsageError(f"dataset collect needs {key}=...")
    steps = _positive_int("steps", options.get("steps", "1000000"))  # D4RL's size for most MuJoCo datasets
    train_steps = _positive_int("train_steps", options.get("train_steps", "1000000"))  # D4RL trained SAC 1M steps
    seed = options.get("seed", "0")
    if not seed.isdigit():
        raise UsageError(f"seed must be a non-negative integer, got {seed!r}")
    path = collect(options["env"], options["kind"], steps, train_steps, int(seed), Path(options["output"]) if "output" in options else None)
    print(f"wrote {path}")


COMMANDS: dict[str, Callable[[Sequence[str]], None]] = {
    "list": cmd_list, "run": cmd_run, "suite": cmd_suite, "leaderboard": cmd_leaderboard,
    "perf": cmd_perf, "new-method": cmd_new_method, "dataset": cmd_dataset,
}


def main(argv: Sequence[str] | None = None) -> int:
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command = COMMANDS.get(argv[0])
    if command is None:
        print(f"error: unknown command {argv[0]!r}; allowed: {', '.join(COMMANDS)}\n{USAGE}", file=sys.stderr)
        return 2
    try:
        command(argv[1:])
    except (ValueError, HydraException, OmegaConfBaseException) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
