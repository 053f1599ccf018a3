"""`plasticbench status`: each run state is read correctly from the store."""
from __future__ import annotations

import json
import os
import time
import warnings

from plasticbench.benchmark.cli import main
from plasticbench.benchmark.grid_status import run_state
from plasticbench.benchmark.store import RunStore
from plasticbench.benchmark.suite import grid, plan

TINY = ["learner.hidden=[16,16]", "learner.batch_size=16", "seeds=1"]
METHODS = ["ft1", "redo", "reset", "pi", "layernorm"]


def test_status_shows_done_running_stalled_failed_and_missing(tmp_path, capsys):
    extra = [*TINY, f"results_dir={tmp_path}"]
    configs = [c for c in plan(grid("smoke", suites=["hopper"], methods=METHODS, learners=["sac"], extra=extra)).todo
               if c.method != "random"]  # the suite's random-policy measurement stays missing here
    by_method = {c.method: RunStore(c.results_dir, c.run_id) for c in configs}
    for store in by_method.values():
        store.dir.mkdir(parents=True)
    by_method["ft1"].record_path.write_text(json.dumps({"scale": "smoke", "suite": "hopper", "wall_time_s": 120.0}))
    by_method["redo"].checkpoint_path.write_bytes(b"x")
    by_method["reset"].checkpoint_path.write_bytes(b"x")
    old = time.time() - 3600
    os.utime(by_method["reset"].checkpoint_path, (old, old))
    (by_method["pi"].dir / "failure.json").write_text("{}")
    states = {c.method: run_state(c, stalled_after=600) for c in configs}
    assert states == {"ft1": "done", "redo": "running", "reset": "stalled", "pi": "failed", "layernorm": "missing"}

    assert main(["status", "scale=smoke", "suites=hopper", f"methods={','.join(METHODS)}", "learners=sac",
                 "stalled_after=600", *extra]) == 0
    rows = {line.split("|")[2].strip(): [c.strip() for c in line.split("|")[3:9]] for line in capsys.readouterr().out.splitlines()[2:]}
    assert rows["layernorm"] == ["0", "0", "0", "0", "1", "2 min"]
    assert rows["reset"] == ["0", "0", "1", "0", "0", "2 min"]
    assert rows[""] == ["1", "1", "1", "1", "2", "10 min"]  # the total row: five runs left at 120 s each


def test_status_needs_a_scale(capsys):
    assert main(["status"]) == 2
    assert "status needs scale=" in capsys.readouterr().err


def test_a_halfcheetah_build_prints_no_deprecation_noise(capfd):
    """MuJoCo 4's `settotalmass` deprecation printed once per HalfCheetah build; the pinned 3.3.0 has none."""
    from plasticbench.envs.catalog import get_scenario

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for task in get_scenario("halfcheetah_forgetting").tasks[:2]:
            task.make(None).close()
    printed = capfd.readouterr()
    assert "settotalmass" not in printed.out + printed.err + " ".join(str(w.message) for w in caught)
