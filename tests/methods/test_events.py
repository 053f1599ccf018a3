"""Every plasticity method acts at every scale (issue #10): events fire at smoke, are counted per seed and
task with snapshots around them, and no committed record of a method equals another method's."""
import itertools
import json
from pathlib import Path

import pytest

from plasticbench.benchmark.config import HARNESS_VERSION
from plasticbench.benchmark.runner import run

RUNS = Path(__file__).resolve().parents[2] / "results" / "runs"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@pytest.mark.parametrize("method,kind", [("reset", "reset"), ("redo", "recycle"), ("pi", "injection"), ("ne", "topology")])
def test_each_plasticity_method_fires_at_smoke_scale(tiny_config, method, kind):
    """The scale's own budget (300 env steps), the method's default schedule: at least one event per seed,
    counted in `events`, with before/after snapshots of the same metrics."""
    record = run(tiny_config(f"method={method}", "learner=td3", "suite=halfcheetah", "seeds=2"), progress=False)
    events = record["events"]
    assert events["kinds"] == [kind] and len(events["per_task"]) == 1
    assert all(count >= 1 for count in events["total"]), events["total"]
    assert events["by_kind"][kind] == events["per_task"]
    first = events["log"][0]
    assert first["kind"] == kind and first["task"] == 0 and first["number"] == 1
    assert set(first["before"]) == set(first["after"]) and "critic_srank" in first["after"] and "q2_srank" in first["after"]
    assert len(first["after"]["q1_dormant_ratio_tau0"]) == 2


def test_method_without_structural_events_has_no_events_field(tiny_config):
    record = run(tiny_config("method=ft1", "learner=td3", "suite=halfcheetah", "seeds=1", "scale.steps_per_task=80",
                             "scale.eval_every=40"), progress=False)
    assert record["events"] is None


def _committed_records() -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(RUNS.glob("*/record.json"))]


def test_no_two_methods_share_final_returns_on_the_committed_grid():
    """Issue #10 "Done means": different methods of one learner and scenario never have bit-identical
    final returns (and plasticity curves: see below). Records written before the `events` field (harness
    older than this code) fail the test: committed records must be regenerated with the current
    HARNESS_VERSION before they are committed."""
    records = [r for r in _committed_records() if r["method"] != "random"]  # measurements, not trained runs
    stale = [r["run_id"] for r in records
             if "events" not in r or _version(r["config"]["harness_version"]) < _version(HARNESS_VERSION)]
    assert records and not stale, (f"{len(stale)} committed records predate the events field / harness "
                                   f"{HARNESS_VERSION}: regenerate results/runs before committing")
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for record in records:
        groups.setdefault((record["scale"], record["learner"], record["suite"]), []).append(record)
    # Identical returns AND identical plasticity curves: a method that never acts leaves both equal to its
    # learner's. Returns alone also tie where the evaluation cannot tell any two policies apart (Atari at smoke:
    # every policy loses Pong 21-0 or scores 0 in a 50-step Ms. Pac-Man, on every seed), while the networks differ.
    same = [(a["method"], b["method"], key) for key, group in groups.items() for a, b in itertools.combinations(group, 2)
            if a["method"] != b["method"] and a["final_returns"] == b["final_returns"]
            and a["plasticity"] == b["plasticity"]]
    assert not same, f"bit-identical final returns and plasticity between different methods: {same}"
