"""A multitask run kept with its Run object, for the module fixtures of the multitask suites' tests
(the replay and the learner are inspected after the record is written)."""
from plasticbench.benchmark import runner


def executed_run(tmp_path_factory, *overrides: str) -> tuple[runner.Run, dict]:
    """(the Run, its record) of a run with the tests' tiny networks in a fresh results directory."""
    from plasticbench.benchmark.config import load_run_config
    from tests.conftest import TINY

    config = load_run_config([*TINY, f"results_dir={tmp_path_factory.mktemp('mt')}", *overrides])
    run = runner.Run(config, progress=False)
    return run, run.execute()
