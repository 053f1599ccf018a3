"""`plasticbench perf`: the table's shape at a tiny size, the ratio arithmetic, and early input errors.

No timing assertions: throughput depends on the machine and on whatever else runs on it.
"""
from __future__ import annotations

import os
import re

import pytest
import torch

from plasticbench.benchmark import perf, perf_table


def _row(impl: str, seeds: int, seed_steps_per_s: float, rep: int = 0, cpu_share: float = 0.5, method: str = "ft1") -> dict:
    """A measured row: `steps` in `train_wall_s`; the process was on the CPU `cpu_share` of that time."""
    wall = 100 * seeds / seed_steps_per_s
    return {"impl": impl, "learner": "sac", "seeds": seeds, "steps": 100, "train_wall_s": wall,
            "train_cpu_s": wall * cpu_share, "update_wall_s": 0.5, "update_cpu_s": 0.25, "peak_memory_mib": 400.0,
            "memory_kind": "RSS", "label": f"{impl} {method} S={seeds}", "rep": rep, "method": method}


def test_main_interleaves_repetitions_and_prints_one_row_per_seed_count(capsys, monkeypatch):
    # in this process: a spawned child per row re-imports torch and MuJoCo, seconds each
    monkeypatch.setattr(perf, "in_fresh_process", lambda fn, *args: fn(*args))
    threads = torch.get_num_threads()
    try:
        rows = perf.main({"learner": "sac", "seeds": "1,2", "steps": "5", "reps": "2"})
        assert torch.get_num_threads() == 1  # threads=1 by default, set by the measuring process
    finally:
        torch.set_num_threads(threads)
    lines = capsys.readouterr().out.splitlines()
    table = [line.split() for line in lines if line.startswith("plasticbench ")]
    assert [cells[:3] for cells in table] == [["plasticbench", "sac", "1"], ["plasticbench", "sac", "2"]]
    assert not any(line.startswith("sb3") for line in lines)  # no vs=sb3, no SB3 row
    assert lines[1].startswith("before: load average") and any(line.startswith("after: load average") for line in lines)
    assert [(r["seeds"], r["rep"]) for r in rows] == [(1, 0), (2, 0), (1, 1), (2, 1)]  # interleaved, not in blocks
    for r in rows:
        assert r["train_cpu_s"] > 0 and r["update_cpu_s"] > 0 and r["peak_memory_mib"] > 0 and r["threads"] == 1


def test_rows_run_in_their_own_process():
    # peak RSS is a per-process high-water mark, so each row needs its own process
    assert perf.in_fresh_process(os.getpid) != os.getpid()


def test_ratio_is_the_median_of_per_repetition_ratios_with_their_range():
    # rep 1 of SB3 was slowed by a neighbour: the per-repetition ratios are 1.0, 2.0, 1.1 -> median 1.10
    rows = [_row("plasticbench", 1, 100.0, rep) for rep in range(3)]
    rows += [_row("sb3", 1, v, rep) for rep, v in enumerate([100.0, 50.0, 100.0 / 1.1])]
    lines = perf_table.format_table(rows).splitlines()
    assert lines[0].split()[:3] == ["impl", "learner", "S"]
    ours = lines[1].split()
    assert ours[3:5] == ["100.0", "[100.0-100.0]"]  # wall seed-steps/s, median [min-max]
    assert ours[5:7] == ["200.0", "[200.0-200.0]"]  # per CPU second: the process ran half the time
    assert ours[-4:] == ["1.10", "[1.00-2.00]x", "1.10", "[1.00-2.00]x"]
    assert len({len(line) for line in lines}) <= 2  # aligned columns (the last line may end earlier)


def test_table_without_sb3_has_no_ratio():
    assert perf_table.format_table([_row("plasticbench", 1, 50.0)]).splitlines()[1].split()[-2:] == ["-", "-"]


def test_spread_of_one_repetition_is_the_bare_value():
    assert perf_table.spread([2.0], ".1f") == "2.0" and perf_table.spread([3.0, 1.0, 2.0], ".1f") == "2.0 [1.0-3.0]"


GOOD = {"learner": "sac", "seeds": "1,8"}


@pytest.mark.parametrize("override, message", [
    ({"learner": "ppo"}, "'ppo'; allowed: sac, td3"),
    ({"learner": None}, "allowed: sac, td3"),
    ({"seeds": "0,8"}, "seeds='0,8' must be a comma-separated list of positive integers"),
    ({"seeds": "one"}, "seeds='one' must be a comma-separated list of positive integers"),
    ({"seeds": None}, "perf needs seeds="),
    ({"vs": "rllib"}, "vs='rllib'; allowed: sb3"),
    ({"steps": "-3"}, "steps='-3' must be a positive integer"),
    ({"device": "tpu"}, "device='tpu'; allowed: cpu, cuda"),
    ({"env": "Pong-v5"}, "env='Pong-v5'; allowed: Ant-v5, HalfCheetah-v5"),
    ({"speed": "fast"}, "['speed']; allowed: learner, seeds"),
    ({"methods": "ft1,nope"}, "unknown method 'nope' in methods=; allowed: csp, dapd, ewc, ft1,"),
    ({"methods": ""}, "methods='' must be a comma-separated list of method names; allowed: csp, dapd, ewc, ft1,"),
    ({"methods": "redo", "events": "sparse"}, "events='sparse'; allowed: dense"),
    ({"events": "dense"}, "events=dense applies to methods=a,b,...; add methods=NAME (allowed: csp, dapd, ewc, ft1,"),
])
def test_bad_input_names_the_value_and_the_allowed_ones_before_any_work(monkeypatch, override, message):
    monkeypatch.setattr(perf, "in_fresh_process", lambda *a: pytest.fail("work started before the input was checked"))
    options = {k: v for k, v in {**GOOD, **override}.items() if v is not None}
    with pytest.raises(ValueError, match=re.escape(message)):
        perf.main(options)


def test_missing_sb3_gives_the_install_command(monkeypatch):
    monkeypatch.setattr(perf, "sb3_installed", lambda: False)
    monkeypatch.setattr(perf, "in_fresh_process", lambda *a: pytest.fail("work started before the input was checked"))
    with pytest.raises(ValueError, match=re.escape("pip install 'plasticbench[sb3]'")):
        perf.main({**GOOD, "vs": "sb3"})


def test_methods_print_one_row_per_method_with_cost_vs_ft1(capsys, monkeypatch):
    monkeypatch.setattr(perf, "in_fresh_process", lambda fn, *args: fn(*args))
    threads = torch.get_num_threads()
    try:
        rows = perf.main({"learner": "sac", "seeds": "1", "steps": "3", "methods": "ft1,redo", "reps": "1"})
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "do not fire within 3 timed steps" in out  # default periods, said in the header
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("method "))
    assert "cost vs ft1" in header
    table = [line.split() for line in lines if line.startswith(("ft1 ", "redo "))]
    assert [cells[:3] for cells in table] == [["ft1", "sac", "1"], ["redo", "sac", "1"]]  # ft1 once, not twice
    assert table[0][-3:] == ["1.00x", "1.00x", "defaults"]  # cost vs ft1 (cpu, wall), overrides
    assert table[1][-1] == "defaults" and re.fullmatch(r"\d+\.\d\dx", table[1][-2])
    assert [(r["method"], r["method_params"]) for r in rows] == [("ft1", {}), ("redo", {})]


def test_method_cost_is_seconds_per_step_over_ft1s_at_the_same_seed_count_and_repetition():
    rows = [{**_row("plasticbench", s, eps * s, rep, method=m), "method_params": p}
            for rep in range(2)
            for m, s, eps, p in [("ft1", 1, 100.0 * (rep + 1), {}), ("ft1", 8, 40.0, {}),
                                 ("redo", 1, 50.0 * (rep + 1), {"period": 2}), ("redo", 8, 40.0, {"period": 2})]]
    lines = perf_table.format_method_table(rows, "ft1").splitlines()
    # ft1 at S=1 doubled its speed in rep 1, and so did redo: the cost is 2.00 in both repetitions
    same = lambda cost: [cost, f"[{cost}-{cost}]x"]
    assert [line.split()[-5:] for line in lines[1:]] == [
        [*same("1.00"), *same("1.00"), "defaults"], [*same("1.00"), *same("1.00"), "defaults"],
        [*same("2.00"), *same("2.00"), "period=2"], [*same("1.00"), *same("1.00"), "period=2"]]


def test_dense_events_land_in_the_timed_window():
    assert perf.dense_params("redo", 20) == {"period": 5}
    assert perf.dense_params("reset", 20) == {"period": 5}
    assert perf.dense_params("ne", 20) == {"grow_interval": 5}
    assert perf.dense_params("pi", 20) == {"injection_step": perf.WARMUP_STEPS + 10}
    assert perf.dense_params("ft1", 20) == {} and perf.dense_params("redo", 2) == {"period": 1}


def test_method_incompatible_with_the_learner_names_the_allowed_ones(monkeypatch):
    from plasticbench.benchmark import registry
    from plasticbench.methods.base import Method

    class TD3Only(Method):
        name, learners, settings = "td3_only", frozenset({"td3"}), frozenset({"online"})

    registry.method_names()  # discover the built-ins before adding the fake
    monkeypatch.setitem(registry._METHODS, "td3_only", TD3Only)
    monkeypatch.setattr(perf, "in_fresh_process", lambda *a: pytest.fail("work started before the input was checked"))
    with pytest.raises(ValueError, match=re.escape("method 'td3_only' does not support learner 'sac' (it supports: td3); "
                                                   "allowed with sac: csp, dapd, ewc, ft1,")) as error:
        perf.main({**GOOD, "methods": "redo,td3_only"})
    assert "td3_only" not in str(error.value).split("allowed with sac:")[1]


def test_training_loop_is_warm_and_each_step_acts_stores_and_updates_once():
    loop = perf.training_loop("td3", 2, 3, torch.device("cpu"))
    try:
        assert loop.agent.buffer.size == perf.WARMUP_STEPS and loop.agent.updates == 0
        loop.train_step()
        assert (loop.agent.buffer.size, loop.agent.updates, loop.agent.env_steps) == (perf.WARMUP_STEPS + 1, 1,
                                                                                       perf.WARMUP_STEPS + 1)
    finally:
        loop.close()
