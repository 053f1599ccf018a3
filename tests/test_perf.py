"""`plasticbench perf`: the table's shape at a tiny size, the ratio arithmetic, and early input errors.

No timing assertions: throughput depends on the machine and on whatever else runs on it.
"""
from __future__ import annotations

import os
import re

import pytest
import torch

from plasticbench.benchmark import perf


def _row(impl: str, seeds: int, seed_steps_per_s: float) -> dict:
    return {"impl": impl, "learner": "sac", "seeds": seeds, "env_steps_per_s": seed_steps_per_s / seeds,
            "seed_steps_per_s": seed_steps_per_s, "update_ms": 5.0, "peak_memory_mib": 400.0, "memory_kind": "RSS"}


def test_main_prints_one_row_per_seed_count(capsys, monkeypatch):
    # in this process: a spawned child per row re-imports torch and MuJoCo, seconds each
    monkeypatch.setattr(perf, "in_fresh_process", lambda fn, *args: fn(*args))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # OpenMP threads spin badly on a shared, oversubscribed CI machine
    try:
        rows = perf.main({"learner": "sac", "seeds": "1,2", "steps": "5"})
    finally:
        torch.set_num_threads(threads)
    lines = capsys.readouterr().out.splitlines()
    table = [line.split() for line in lines if line.startswith("plasticbench ")]
    assert [cells[:3] for cells in table] == [["plasticbench", "sac", "1"], ["plasticbench", "sac", "2"]]
    assert not any(line.startswith("sb3") for line in lines)  # no vs=sb3, no SB3 row
    assert [r["seeds"] for r in rows] == [1, 2]
    for r in rows:
        assert r["seed_steps_per_s"] == pytest.approx(r["env_steps_per_s"] * r["seeds"])
        assert r["update_ms"] > 0 and r["peak_memory_mib"] > 0


def test_rows_run_in_their_own_process():
    # peak RSS is a per-process high-water mark, so each row needs its own process
    assert perf.in_fresh_process(os.getpid) != os.getpid()


def test_table_ratio_is_ours_over_sb3_seed_steps():
    table = perf.format_table([_row("plasticbench", 1, 50.0), _row("plasticbench", 8, 200.0), _row("sb3", 1, 100.0)])
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["impl", "learner", "S"]
    assert [line.split()[-1] for line in lines[1:]] == ["0.50x", "2.00x", "1.00x"]
    assert len({len(line.rstrip()) for line in lines}) == 1  # aligned columns


def test_table_without_sb3_has_no_ratio():
    assert perf.format_table([_row("plasticbench", 1, 50.0)]).splitlines()[1].split()[-1] == "-"


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
    torch.set_num_threads(1)
    try:
        rows = perf.main({"learner": "sac", "seeds": "1", "steps": "3", "methods": "ft1,redo"})
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "may not fire within 3 timed steps" in out  # default periods, said in the header
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("method "))
    assert "cost vs ft1" in header
    table = [line.split() for line in lines if line.startswith(("ft1 ", "redo "))]
    assert [cells[:3] for cells in table] == [["ft1", "sac", "1"], ["redo", "sac", "1"]]  # ft1 once, not twice
    assert table[0][-2:] == ["1.00x", "defaults"]  # cost vs ft1, overrides
    assert table[1][-1] == "defaults" and re.fullmatch(r"\d+\.\d\dx", table[1][-2])
    assert [(r["method"], r["method_params"]) for r in rows] == [("ft1", {}), ("redo", {})]


def test_method_cost_is_seconds_per_step_over_ft1s_at_the_same_seed_count():
    rows = [{**_row("plasticbench", s, eps * s), "method": m, "method_params": p}
            for m, s, eps, p in [("ft1", 1, 100.0, {}), ("ft1", 8, 40.0, {}), ("redo", 1, 50.0, {"period": 2}),
                                 ("redo", 8, 40.0, {"period": 2})]]
    lines = perf.format_method_table(rows).splitlines()
    assert [line.split()[-2:] for line in lines[1:]] == [["1.00x", "defaults"], ["1.00x", "defaults"],
                                                         ["2.00x", "period=2"], ["1.00x", "period=2"]]


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
