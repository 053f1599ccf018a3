"""`make demo` (issue #18): a fresh smoke grid of both settings into a scratch folder, never results/."""
from pathlib import Path

import pytest

from plasticbench.benchmark import demo
from plasticbench.benchmark.cli import UsageError
from plasticbench.benchmark.reporting.leaderboard import Row
from plasticbench.envs.catalog import get_scenario

CHECKOUT = Path(__file__).resolve().parents[2]


def test_the_plan_trains_both_settings_with_three_seeds_into_the_scratch_folder_only(tmp_path):
    the_plan = demo.demo_plan(tmp_path / "demo")
    assert len(the_plan.todo) == 18 and not the_plan.done  # 4 methods x 2 learners x 2 scenarios + 2 random measurements
    assert {Path(config.results_dir) for config in the_plan.todo} == {tmp_path / "demo"}
    assert {get_scenario(config.suite).setting for config in the_plan.todo} == {"online", "continual"}
    assert all(config.scale.name == "smoke" and len(config.seeds) == 3 for config in the_plan.todo)


def test_the_default_scratch_folder_is_outside_the_checkout():
    folder = demo.default_dir().resolve()
    assert folder != CHECKOUT and CHECKOUT not in folder.parents


def test_a_rerun_empties_the_previous_demo_but_a_foreign_folder_is_refused_untouched(tmp_path, capsys):
    folder = tmp_path / "demo"
    demo.fresh_directory(folder)
    (folder / "runs").mkdir()
    demo.fresh_directory(folder)  # made by the demo: emptied, so the next demo trains again
    assert sorted(p.name for p in folder.iterdir()) == [demo.MARKER]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(UsageError, match="not made by the demo"):
        demo.fresh_directory(mine)
    assert demo.main([f"dir={mine}"]) == 2 and "not made by the demo" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "keep"


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path, capsys):
    assert demo.main([f"dir={tmp_path / 'demo'}", "dry_run=true"]) == 0
    assert "18 runs to do" in capsys.readouterr().out and not (tmp_path / "demo").exists()
    assert demo.main(["scale=paper"]) == 2  # not an option of the demo


def test_the_summary_is_each_scenarios_best_row_with_its_iqm_and_ci_then_one_line_of_scope():
    row = lambda method, iqm: Row(method, "sac", "raw", 3, iqm, iqm - 0.1, iqm + 0.2, None, None, 1.0)
    lines = demo.summary({("smoke", "halfcheetah"): [row("reset", 0.5), row("ft1", 0.25)],
                          ("smoke", "halfcheetah_forgetting"): [row("redo", 1.25)]})
    assert len(lines) == 3
    assert lines[0] == ("best on halfcheetah (online): reset + sac, IQM 0.500 [95% CI 0.400, 0.700] "
                        "(raw score, 3 seeds)")
    assert lines[1].startswith("best on halfcheetah_forgetting (continual): redo + sac, IQM 1.250")
    assert lines[2].startswith("3 method x learner cells ranked at scale=smoke")


@pytest.mark.slow
def test_the_demo_trains_ranks_and_leaves_the_checkout_as_it_was(tmp_path, capsys):
    """The whole demo (minutes): 18 records, a leaderboard and figures in the scratch folder, a
    three-line summary, and `git status` of the checkout unchanged."""
    import subprocess

    status = lambda: subprocess.run(["git", "status", "--porcelain"], cwd=CHECKOUT, capture_output=True, text=True).stdout
    before = status()
    assert demo.main([f"dir={tmp_path / 'demo'}"]) == 0
    out = capsys.readouterr().out
    assert len(list((tmp_path / "demo" / "runs").glob("*/record.json"))) == 18
    assert (tmp_path / "demo" / "leaderboard.md").is_file()
    assert (tmp_path / "demo" / "figures" / "smoke-halfcheetah_forgetting-curves.svg").is_file()
    assert out.count("best on ") == 2 and f"leaderboard: {tmp_path / 'demo' / 'leaderboard.md'}" in out
    assert status() == before
