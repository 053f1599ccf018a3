"""`plasticbench`: list, run, suite, leaderboard, perf, new-method, dataset.

Arguments are Hydra-style `key=value` overrides. Every name and combination is checked before
any work starts; a bad one exits with status 2 and a message listing the allowed values.

Exit status: 0 done; 1 an unexpected error, or a suite with failed or missing cells (listed, with
the command that reruns each); 2 bad input; 3 done, but some seeds diverged (named in the summary
line; they are frozen, recorded and scored as failures, benchmark/reporting/scores.py).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Sequence

USAGE = """usage:
  plasticbench list methods|learners|suites
  plasticbench run method=NAME learner=NAME suite=NAME scale=smoke|short|paper seeds=N [results_dir=PATH] [device=cpu|cuda] [dry_run=true] [method.PARAM=VALUE ...]
  plasticbench run method=random suite=NAME scale=smoke|short|paper seeds=N   (the uniform-random policy's returns, R_random)
  plasticbench suite scale=smoke|short|paper [suites=a,b] [methods=a,b] [learners=a,b] [results_dir=PATH] [seeds=N] [dry_run=true] [hydra/launcher=joblib|submitit_local|submitit_slurm|ray] [hydra.launcher.KEY=VALUE ...]
  plasticbench leaderboard [results_dir=PATH] [output=PATH] [figures=PATH] [draw=true|false] [jobs=N]
  plasticbench status scale=smoke|short|paper [suites=a,b] [methods=a,b] [learners=a,b] [results_dir=PATH] [stalled_after=SECONDS]
  plasticbench perf learner=sac seeds=1,8 [vs=sb3] [steps=N] [reps=N] [threads=N] [device=cpu|cuda] [env=HalfCheetah-v5] [methods=a,b] [events=dense]
  plasticbench new-method NAME
  plasticbench dataset collect env=hopper kind=random|medium|expert|medium-replay|medium-expert [steps=N] [train_steps=N] [seed=N] [output=PATH]"""


EXIT_FAILED, EXIT_USAGE, EXIT_DIVERGED = 1, 2, 3


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
    from plasticbench.envs.atari import GAME_SETS
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
        for name, members in GAME_SETS.items():
            print(f"{name:24s} set of {len(members)} suites (suites={name})")
    else:
        raise UsageError(f"list what? got {what!r}; allowed: methods, learners, suites")


def cmd_run(args: Sequence[str]) -> int:
    from plasticbench.benchmark.memory_plan import plan_run
    from plasticbench.benchmark.suite import execute, load_cell
    from plasticbench.benchmark.threads import use_threads

    dry = [a.partition("=")[2] for a in args if a.partition("=")[0] == "dry_run"]
    config = load_cell([a for a in args if a.partition("=")[0] != "dry_run"])
    if dry and _bool("dry_run", dry[-1]):
        print(_plan_line(config, plan_run))
        return 0
    use_threads(config)
    record = execute(config)
    diverged = record.get("diverged") or {}
    note = "; diverged seeds: " + ", ".join(f"{seed} at env step {step}" for seed, step in diverged.items()) \
        + " (frozen there, scored as failures)" if diverged else ""
    print(f"run {record['run_id']}: scores per seed {record['scores']} ({record['normalization']['kind']}){note}; "
          f"record in {Path(config.results_dir) / 'runs' / record['run_id']}")
    return EXIT_DIVERGED if diverged else 0


def cmd_suite(args: Sequence[str]) -> int:
    from plasticbench.benchmark.failures import closing_summary
    from plasticbench.benchmark.memory_plan import plan_run
    from plasticbench.benchmark.suite import describe, grid, launch, outcomes, plan

    grid_keys = {"scale", "suites", "methods", "learners", "dry_run"}
    options = {k: v for k, v in (a.partition("=")[::2] for a in args) if k in grid_keys}
    # `hydra/launcher=...` and `hydra.launcher.*` go to the engine (docs/engines.md), the rest to every run
    launcher = [a for a in args if a.lstrip("+~").startswith("hydra")]
    extra = [a for a in args if a.partition("=")[0] not in grid_keys and a not in launcher]
    if "scale" not in options:
        raise UsageError("suite needs scale=smoke|short|paper")
    dry_run = _bool("dry_run", options.get("dry_run", "false"))
    the_plan = plan(grid(options["scale"], _csv(options.get("suites")), _csv(options.get("methods")),
                         _csv(options.get("learners")), extra))
    print(describe(the_plan, options["scale"]), flush=True)
    if dry_run:
        # free memory is this machine's; each run re-checks on the node it runs on (Run refuses it there)
        for config in the_plan.todo:
            print(f"  {_plan_line(config, plan_run)}")
        return 0
    launch(the_plan, launcher)
    cells = outcomes(the_plan)
    print(closing_summary(cells))
    if any(c.status != "recorded" for c in cells):
        return EXIT_FAILED
    return EXIT_DIVERGED if any(c.diverged for c in cells) else 0


def cmd_status(args: Sequence[str]) -> None:
    from plasticbench.benchmark.grid_status import status_table
    from plasticbench.benchmark.suite import grid, plan

    grid_keys = {"scale", "suites", "methods", "learners", "stalled_after"}
    options = {k: v for k, v in (a.partition("=")[::2] for a in args) if k in grid_keys}
    extra = [a for a in args if a.partition("=")[0] not in grid_keys]
    if "scale" not in options:
        raise UsageError("status needs scale=smoke|short|paper (and the same selection as the suite it watches)")
    stalled_after = _positive_int("stalled_after", options.get("stalled_after", "900"))
    the_plan = plan(grid(options["scale"], _csv(options.get("suites")), _csv(options.get("methods")),
                         _csv(options.get("learners")), extra))
    print(status_table([*the_plan.done, *the_plan.todo], stalled_after))


def _plan_line(config, plan_run) -> str:
    """The memory plan of a run; the random measurement trains nothing and holds no replay."""
    from plasticbench.benchmark.random_policy import RandomRunConfig

    if isinstance(config, RandomRunConfig):
        return f"{config.run_id} random/{config.suite}: evaluation only, no replay"
    return plan_run(config).line()


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
    from plasticbench.benchmark.perf import OPTION_KEYS, main as perf_main

    perf_main(split_options(args, set(OPTION_KEYS)))


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


COMMANDS: dict[str, Callable[[Sequence[str]], int | None]] = {
    "list": cmd_list, "run": cmd_run, "suite": cmd_suite, "status": cmd_status, "leaderboard": cmd_leaderboard,
    "perf": cmd_perf, "new-method": cmd_new_method, "dataset": cmd_dataset,
}


def main(argv: Sequence[str] | None = None) -> int:
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from plasticbench.benchmark.config_checks import explain

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command = COMMANDS.get(argv[0])
    if command is None:
        print(f"error: unknown command {argv[0]!r}; allowed: {', '.join(COMMANDS)}\n{USAGE}", file=sys.stderr)
        return 2
    try:
        return command(argv[1:]) or 0
    except (ValueError, HydraException, OmegaConfBaseException) as error:
        print(f"error: {explain(error)}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
