"""Atari on the leaderboard: human-normalized scores aggregated over games apart from every other family."""
from __future__ import annotations

import numpy as np

from plasticbench.benchmark.reporting.leaderboard import aggregate_key, build_leaderboard
from tests.test_leaderboard import make_record


def _online(run_id: str, method: str, suite: str, family: str, kind: str, offset: float) -> dict:
    return {**make_record(run_id, method, suite=suite, family=family, kind=kind, offset=offset), "setting": "online"}


def test_atari_games_form_their_own_overall_table_never_pooled_with_other_families():
    records = [_online(f"a{i}{m}", m, f"atari_{game}", "atari", "human", off)
               for i, game in enumerate(("pong", "breakout")) for m, off in (("ft1", 0.0), ("redo", 1.0))]
    records += [_online(f"w{m}", m, "some_success_suite", "metaworld", "success", 0.0) for m in ("ft1", "redo")]
    assert aggregate_key(records[0]) == "online atari" and aggregate_key(records[-1]) == "online"
    text = build_leaderboard(records)
    overall = text.split("# Per scenario")[0]
    atari = overall.split("### Overall · scale `smoke` · Atari games (IQM of the human-normalized score over games)")[1]
    plasticity = overall.split("### Overall · scale `smoke` · plasticity (single-task) scenarios")[1].split("###")[0]
    assert "Scenarios (2): `atari_breakout`, `atari_pong`" in atari and "some_success_suite" not in atari
    assert "Scenarios (1): `some_success_suite`" in plasticity and "atari" not in plasticity


def test_continual_atari_task_matrix_is_human_normalized_per_game():
    from plasticbench.benchmark.reporting.leaderboard import task_matrix
    from plasticbench.benchmark.reporting.scores import references

    record = {**make_record("c1", "ft1", family="atari", kind="human"),
              "task_matrix": [[[-20.7, -20.7], [1.7, 1.7]], [[14.6, 14.6], [30.5, 16.1]]],  # [N, N, S]: pong, breakout
              "normalization": {"kind": "human", "random_returns": [-20.7, 1.7], "human_returns": [14.6, 30.5]}}
    assert np.allclose(task_matrix(record, references([record])), [[0.0, 0.0], [1.0, 0.75]])
