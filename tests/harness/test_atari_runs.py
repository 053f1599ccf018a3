"""Atari through the harness with a tiny discrete stand-in learner (tests/atari_standin.py): the run
loop end to end, legal actions, resume, the human-normalized score, the grid and the early errors."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch

from plasticbench.benchmark import registry
from plasticbench.benchmark.cli import main
from plasticbench.benchmark.reporting.scores import human_normalized
from plasticbench.benchmark.runner import run
from plasticbench.envs.atari_games import RANDOM_HUMAN
from plasticbench.methods.ft1 import FT1
from tests.resume import killed_and_resumed

pytest.importorskip("ale_py", reason="the atari extra is in `dev`; CI installs it")

STANDIN = "standin_dqn"
FAST = [f"learner={STANDIN}", "method=ft1", "seeds=2", "learner.hidden=[8]", "learner.batch_size=8",
        "scale.learning_starts=16", "scale.eval_every=40", "scale.checkpoint_every=30"]


@pytest.fixture(autouse=True)
def standin(monkeypatch):
    """The stand-in as `learner=standin_dqn`, and ft1 declaring it (as ft1 declares every learner)."""
    monkeypatch.setitem(registry.LEARNERS, STANDIN, "tests.atari_standin:StandInDQN")
    monkeypatch.setattr(FT1, "learners", FT1.learners | {STANDIN})


@pytest.fixture(scope="module")
def pong_record(tmp_path_factory):
    from plasticbench.benchmark.config import load_run_config

    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(registry.LEARNERS, STANDIN, "tests.atari_standin:StandInDQN")
        patch.setattr(FT1, "learners", FT1.learners | {STANDIN})
        config = load_run_config([*FAST, "suite=atari_pong", "scale=smoke", "scale.steps_per_task=80",
                                  f"results_dir={tmp_path_factory.mktemp('pong')}"])
        return run(config, progress=False)


def test_a_single_game_runs_end_to_end_and_records_its_human_normalized_score(pong_record):
    record = pong_record
    assert record["family"] == "atari" and record["backend"] == "ale" and record["tasks"] == ["ALE/Pong-v5"]
    random, human = RANDOM_HUMAN["pong"]
    final = np.asarray(record["final_returns"])  # [S, 1] raw returns of the evaluation games
    assert np.allclose(record["scores"], (final[:, 0] - random) / (human - random))
    assert record["normalization"]["kind"] == "human" and record["normalization"]["random_returns"] == [random]
    assert record["normalization"]["episode_cap"] == 50  # smoke's cap: said in the record
    assert record["curves"]["steps"] == [40, 80] and len(record["plasticity"]["steps"]) == 2


def test_hns_on_a_hand_computed_case():
    """Pong -20.7 is random (0), Breakout 30.5 is human (1); Pong 0 is 20.7 / 35.3."""
    random, human = np.array([-20.7, 1.7]), np.array([14.6, 30.5])
    scores = human_normalized(np.array([[-20.7, 30.5], [0.0, 16.1]]), random, human)
    assert np.allclose(scores, [[0.0, 1.0], [20.7 / 35.3, 0.5]])
    from plasticbench.benchmark.record import human_score
    from plasticbench.envs.catalog import get_scenario

    two_games = get_scenario("atari_continual")  # pong, breakout, ...: use its first two tasks' references
    raw = np.array([[[-20.7, 30.5]], [[0.0, 16.1]]])  # [S, E, N]
    scenario = type("S", (), {"tasks": two_games.tasks[:2]})
    perf, norm, described = human_score(raw, scenario, [False, True], None)
    assert np.allclose(perf[:, 0], scores) and np.allclose(norm.scores, [0.5, 0.0])  # seed 1 diverged: 0
    assert described["human_returns"] == [14.6, 30.5] and norm.kind == "human" and norm.comparable


def test_continual_atari_acts_only_within_each_games_legal_set(tiny_config, tmp_path):
    """The env raises on an illegal action (test_atari_env.py), so a whole run (exploration, random
    warm-up, and the evaluation of every game at each task end) proves the masks reach the learner."""
    config = tiny_config(*FAST, "seeds=[1]", "suite=atari_continual", "scale.steps_per_task=30", "scale.eval_every=30")
    record = run(config, progress=False)  # one seed: each evaluation builds (and seeds: a ROM load each) 5 games
    assert np.asarray(record["task_matrix"]).shape == (5, 5, 1) and record["normalization"]["kind"] == "human"


def test_legal_actions_follow_the_task_and_acting_on(tiny_config):
    from plasticbench.benchmark.runner import build

    learner, _ = build(tiny_config(*FAST, "suite=atari_continual"))
    assert learner.legal_actions.sum() == 6  # pong
    learner.start_task(1)
    with learner.acting_on(3):
        assert learner.legal_actions.all()  # boxing uses all 18
    breakout = learner.legal_actions
    draws = torch.stack([learner.random_action() for _ in range(300)])  # [300, S]
    assert breakout.sum() == 4 and set(draws.flatten().tolist()) == set(torch.nonzero(breakout).flatten().tolist())


def test_an_atari_run_killed_and_resumed_equals_the_uninterrupted_one(tiny_config, tmp_path, monkeypatch):
    overrides = [*FAST, "suite=atari_pong", "scale.steps_per_task=90"]
    resumed, straight = killed_and_resumed(tiny_config, overrides, tmp_path, monkeypatch, die_at=2)
    for key in ("curves", "final_returns", "scores", "plasticity"):
        assert resumed[key] == straight[key], key


def test_learner_and_action_space_must_match_before_any_work(tmp_path, capsys):
    assert main(["run", "method=ft1", "learner=sac", "suite=atari_pong", f"results_dir={tmp_path}"]) == 2
    assert "learner 'sac' is continuous and cannot act in a suite with discrete actions (suite 'atari_pong'); " \
           f"learners for it: dqn, {STANDIN}" in capsys.readouterr().err
    assert main(["run", "method=ft1", f"learner={STANDIN}", "suite=hopper", f"results_dir={tmp_path}"]) == 2
    assert "is discrete (it acts with action indices) and cannot act in a suite with continuous actions" in capsys.readouterr().err
    assert not list(tmp_path.glob("runs/*"))


def test_without_the_atari_extra_the_cli_names_the_install_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ale_py", None)  # import ale_py now raises ImportError
    assert main(["run", "method=ft1", f"learner={STANDIN}", "suite=atari_pong", f"results_dir={tmp_path}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("pip install 'plasticbench[atari]'") and len(err.splitlines()) == 1
    assert not list(tmp_path.glob("runs/*"))


def test_the_grid_plans_one_atari_game_for_discrete_learners_only_and_expands_sets():
    from plasticbench.benchmark.suite import grid

    discrete = {"learner=dqn", f"learner={STANDIN}"}
    cells = grid("smoke", methods=["ft1"])
    assert {c[2] for c in cells if c[1] in discrete} == {"suite=atari_pong"}  # the default grid: one game
    assert {c[1] for c in cells if "suite=atari_pong" in c} == discrete  # discrete learners only, no random cell
    expanded = grid("smoke", suites=["atari_100k"], methods=["ft1"])
    assert len(expanded) == 26 * 2 and {c[1] for c in expanded} == discrete


def test_redo_on_dqn_runs_on_pong_from_the_command_line(tmp_path, capsys):
    """The issue's command, cut to seconds (one seed, 80 steps, a small batch): the real DQN end to end."""
    argv = ["run", "method=redo", "learner=dqn", "suite=atari_pong", "scale=smoke", "seeds=1", "scale.steps_per_task=80",
            "scale.eval_every=80", "scale.learning_starts=32", "learner.batch_size=8", f"results_dir={tmp_path}"]
    assert main(argv) == 0
    assert "(human); record in" in capsys.readouterr().out
    (record,) = [p for p in tmp_path.glob("runs/*/record.json")]
    assert '"kind": "human"' in record.read_text()
    method_config = json.loads(record.read_text())["config"]["method_config"]  # redo.md §5's DQN row, from the scenario
    assert (method_config["tau"], method_config["batch_size"], method_config["period_fraction"]) == (0.025, 64, 1e-4)


def test_a_methods_rollout_plays_atari_games_with_raw_rewards(tiny_config):
    """`ctx.rollout` on an Atari task: whole games in evaluation mode, or a fixed number of agent steps."""
    from plasticbench.benchmark.runner import build

    config = tiny_config(*FAST, "suite=atari_pong")
    learner, _ = build(config)
    task = config.scenario.tasks[0]
    returns = learner.rollout(task, lambda obs: learner.policy_action(obs, False, 0))  # smoke: games cut at 50 steps
    assert returns.shape == (2,) and learner.rollout_steps[0]["uncharged"] == [50, 50]
    fixed = learner.rollout(task, lambda obs: torch.zeros(obs.shape[0], dtype=torch.int64), steps=30)
    assert fixed.shape == (2,) and learner.rollout_steps[0]["uncharged"] == [80, 80]
