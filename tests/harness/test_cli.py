"""The command line: clear errors before any work, list output, suite skipping, leaderboard determinism."""
from pathlib import Path

import pytest

from plasticbench.benchmark.cli import main
from plasticbench.benchmark.suite import grid, plan, run_plan
from tests.conftest import TINY


def error_of(capsys, *argv):
    assert main(list(argv)) == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("argv,expected", [
    (["run", "method=nope"], ["unknown method 'nope'", "ft1", "sac_n"]),
    (["run", "learner=ppo"], ["unknown learner 'ppo'", "sac", "td3"]),
    (["run", "suite=atlantis"], ["unknown suite 'atlantis'", "halfcheetah_forgetting"]),
    (["run", "method=ft_l2", "suite=halfcheetah"], ["does not support the 'online' setting", "continual"]),
    (["run", "method.typo=1"], ["typo"]),
    (["run", "method=ft_l2", "suite=halfcheetah_forgetting", "method.strength=abc"], ["strength"]),
    (["run", "scale=huge"], ["huge"]),
    (["run", "device=tpu"], ["device='tpu'", "cpu, cuda"]),
    (["list", "widgets"], ["methods, learners, suites"]),
    (["leaderboard", "outptu=x.md"], ["unknown option 'outptu'", "output"]),
    (["leaderboard", "draw=maybe"], ["draw must be true or false", "'maybe'"]),
    (["leaderboard", "jobs=0"], ["jobs must be a positive integer", "'0'"]),
    (["leaderboard", "results_dir=/nonexistent/results"], ["is not a directory", "/nonexistent/results"]),
    (["frobnicate"], ["unknown command 'frobnicate'"]),
])
def test_bad_input_is_a_clear_error_before_any_work(capsys, tmp_path, argv, expected):
    message = error_of(capsys, *argv, *([f"results_dir={tmp_path}"] if argv[0] == "run" else []))
    for fragment in expected:
        assert fragment in message
    assert not (tmp_path / "runs").exists()


def test_list_shows_every_registered_name(capsys):
    assert main(["list", "methods"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("ft1", "ft_l2", "ft_n", "sac_n"))
    assert main(["list", "suites"]) == 0
    assert "halfcheetah_forgetting" in capsys.readouterr().out


def test_the_grid_holds_exactly_the_compatible_combinations():
    cells = grid("smoke", suites=["halfcheetah", "halfcheetah_forgetting"], methods=["ft1", "ft_l2"])
    triples = {tuple(c[:3]) for c in cells}
    assert triples == {
        ("method=ft1", "learner=sac", "suite=halfcheetah"), ("method=ft1", "learner=td3", "suite=halfcheetah"),
        ("method=ft1", "learner=sac", "suite=halfcheetah_forgetting"), ("method=ft1", "learner=td3", "suite=halfcheetah_forgetting"),
        ("method=ft_l2", "learner=sac", "suite=halfcheetah_forgetting"), ("method=ft_l2", "learner=td3", "suite=halfcheetah_forgetting"),
        ("method=random", "suite=halfcheetah", "scale=smoke"), ("method=random", "suite=halfcheetah_forgetting", "scale=smoke"),
    }


def test_suite_skips_runs_whose_record_exists(tmp_path):
    extra = [*TINY, f"results_dir={tmp_path}", "seeds=1"]
    cells = grid("smoke", suites=["hopper"], methods=["ft1"], learners=["td3"], extra=extra)
    first = plan(cells)
    assert [c.method for c in first.todo] == ["random", "ft1"] and not first.done
    run_plan(first, progress=False)
    second = plan(cells)
    assert not second.todo and len(second.done) == 2


def test_leaderboard_regenerates_byte_identically(tmp_path, capsys):
    results = tmp_path / "results"
    assert main(["run", "suite=hopper", "learner=td3", "seeds=1", f"results_dir={results}", *TINY]) == 0
    first, second = tmp_path / "a.md", tmp_path / "b.md"
    assert main(["leaderboard", f"results_dir={results}", f"output={first}"]) == 0
    assert main(["leaderboard", f"results_dir={results}", f"output={second}"]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert "hopper" in first.read_text()
