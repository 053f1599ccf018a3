"""Leaderboard from synthetic run records: deterministic, scale-separated, robust to bad files."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from plasticbench.benchmark.reporting.leaderboard import build_leaderboard, load_records, write_leaderboard


def make_record(run_id: str, method: str, scale: str = "smoke", suite: str = "halfcheetah_4",
                seeds: int = 3, offset: float = 0.0, kind: str = "success", family: str = "metaworld") -> dict:
    """A schema-1 record with reproducible per-seed scores (the run loop's output format); by default of a
    suite that defines its own score, so the leaderboard keeps the record's scores."""
    rng = np.random.RandomState(sum(map(ord, run_id + method)))
    n_tasks = 2
    scores = (offset + rng.rand(seeds)).round(6).tolist()
    return {
        "schema_version": 1, "run_id": run_id, "method": method, "learner": "sac", "suite": suite,
        "family": family, "setting": "continual", "backend": "torch", "scale": scale,
        "seeds": list(range(seeds)), "tasks": [f"t{i}" for i in range(n_tasks)],
        "final_returns": rng.rand(seeds, n_tasks).round(6).tolist(), "scores": scores,
        "normalization": {"kind": kind, "reference_returns": None},
        "metrics": {"average_performance": scores, "forgetting": [0.1] * seeds, "forward_transfer": [None] * seeds},
        "model_size": {"actor": 1.0 + offset, "critic": 1.0}, "wall_time_s": 12.5,
    }


RECORDS = [
    make_record("a1", "ft1", offset=0.0),
    make_record("a2", "ft1", offset=0.0, seeds=2),
    make_record("b1", "ewc", offset=1.0),
    make_record("c1", "ewc", scale="short", offset=2.0),
    make_record("d1", "reset", suite="atari_raw", kind="raw", offset=5.0),
]


def write_records(results_dir: Path, records: list[dict], order: list[int]) -> None:
    for i in order:
        run_dir = results_dir / "runs" / f"dir_{records[i]['run_id']}"
        run_dir.mkdir(parents=True)
        (run_dir / "record.json").write_text(json.dumps(records[i]))


def test_same_records_regenerate_byte_identical(tmp_path):
    write_records(tmp_path, RECORDS, list(range(len(RECORDS))))
    first = write_leaderboard(tmp_path, tmp_path / "leaderboard.md").read_bytes()
    second = write_leaderboard(tmp_path, tmp_path / "leaderboard.md").read_bytes()
    assert first == second
    assert build_leaderboard(RECORDS, figures_link="figures").encode() == first  # figures beside the records
    assert "plasticbench leaderboard" in first.decode() and "never" in first.decode()


def test_output_independent_of_record_and_file_order(tmp_path):
    write_records(tmp_path / "x", RECORDS, [4, 2, 0, 3, 1])
    write_records(tmp_path / "y", RECORDS, [1, 3, 0, 2, 4])
    assert [r["run_id"] for r in load_records(tmp_path / "x")] == ["a1", "a2", "b1", "c1", "d1"]
    assert build_leaderboard(load_records(tmp_path / "x")) == build_leaderboard(load_records(tmp_path / "y"))
    assert build_leaderboard(RECORDS[::-1]) == build_leaderboard(RECORDS)


def test_scales_are_separate_sections_and_rows_sorted_by_iqm():
    text = build_leaderboard(RECORDS)
    sections = text.split("\n## ")[1:]
    assert [s.splitlines()[0] for s in sections] == [
        "Scale `short` · scenario `halfcheetah_4`",
        "Scale `smoke` · scenario `atari_raw`",
        "Scale `smoke` · scenario `halfcheetah_4`",
    ]
    short, _, smoke = sections
    assert "| ewc | sac | 3 |" in short and "ft1" not in short
    rows = [line for line in smoke.splitlines() if line.startswith("| ewc") or line.startswith("| ft1")]
    assert rows[0].startswith("| ewc | sac | 3 |") and rows[1].startswith("| ft1 | sac | 5 |")  # 3 + 2 seeds pooled
    assert "| 0.100 | — | 1.0 |" in rows[1]


def test_raw_scenario_says_so():
    raw_section = build_leaderboard(RECORDS).split("scenario `atari_raw`")[1].split("\n## ")[0]
    assert "raw returns" in raw_section and "| raw |" in raw_section


def test_malformed_files_are_skipped_with_warning(tmp_path):
    write_records(tmp_path, RECORDS[:2], [0, 1])
    bad = {"broken": "{not json", "list": "[1, 2]", "noscores": json.dumps({**RECORDS[2], "scores": []})}
    for name, content in bad.items():
        (tmp_path / "runs" / name).mkdir()
        (tmp_path / "runs" / name / "record.json").write_text(content)
    with pytest.warns(UserWarning) as caught:
        records = load_records(tmp_path)
    assert [r["run_id"] for r in records] == ["a1", "a2"]
    messages = " ".join(str(w.message) for w in caught)
    assert all(str(Path("runs") / name / "record.json") in messages for name in bad)
    assert "ft1" in build_leaderboard(records)


def test_duplicate_run_id_counted_once(tmp_path):
    write_records(tmp_path, RECORDS[:1], [0])
    (tmp_path / "runs" / "copy").mkdir()
    (tmp_path / "runs" / "copy" / "record.json").write_text(json.dumps(RECORDS[0]))
    with pytest.warns(UserWarning, match="duplicate run_id"):
        assert len(load_records(tmp_path)) == 1


def test_empty_results_and_atomic_write(tmp_path):
    out = write_leaderboard(tmp_path / "nothing", tmp_path / "site" / "leaderboard.md")
    assert "No run records" in out.read_text()
    assert sorted(os.listdir(out.parent)) == ["leaderboard.md"]  # no temporary file left behind


def test_build_rejects_invalid_record():
    with pytest.raises(ValueError, match="'a1'"):
        build_leaderboard([{**RECORDS[0], "scale": None}])


def _returns_record(run_id: str, method: str, final: list[list[float]], suite: str = "halfcheetah_4", **extra) -> dict:
    record = make_record(run_id, method, suite=suite, family="brax", kind="raw", seeds=len(final))
    record.update(final_returns=final, **extra)
    if method == "random":
        record["learner"] = "none"
    return record


RANDOM = [[-10.0, 0.0], [-12.0, 2.0], [-8.0, -2.0]]  # R_random = (-10, 0)
SAC_N = [[90.0, 50.0], [110.0, 40.0], [100.0, 60.0]]  # R_reference = (100, 50)


def test_scores_are_zero_at_random_and_one_at_the_reference_per_task():
    """(R - R_random) / (R_reference - R_random) per task, mean over tasks; Continual World keeps its success rate."""
    from plasticbench.benchmark.reporting.stats import iqm

    def cw(run_id: str, method: str) -> dict:
        return {**make_record(run_id, method, suite="cw10"), "final_returns": [[2.0, 2.0]] * 3}

    ewc = [[45.0, 25.0], [100.0, 50.0], [-10.0, 0.0]]  # per seed: (0.5 + 0.5) / 2, 1, 0
    records = [_returns_record("r0", "random", RANDOM), _returns_record("b0", "sac_n", SAC_N),
               _returns_record("b1", "ewc", ewc), cw("c0", "sac_n"), cw("c1", "ewc")]
    text = build_leaderboard(records)
    row = {suite: next(line for line in text.split(f"scenario `{suite}`")[1].splitlines() if line.startswith("| ewc |"))
           for suite in ("halfcheetah_4", "cw10")}
    cells = row["halfcheetah_4"].split(" | ")
    assert cells[4] == "sac_n" and cells[3].startswith(f"{iqm(np.array([0.5, 1.0, 0.0])):.3f} [")
    assert cells[-1] == f"{np.mean([(45 / 100 + 25 / 50) / 2, 1.0, -10 / 100 / 2]):.2f} |"  # the papers' final / SAC-N
    assert "random" not in text.split("# Per scenario")[1]  # a reference, not a method: no row
    assert row["cw10"].split(" | ")[4] == "success"
    assert row["cw10"].split(" | ")[3].startswith(f"{iqm(np.array(records[4]['scores'])):.3f} [")


def test_reference_that_does_not_beat_random_is_reported_and_never_pooled():
    barely = [[-9.0, 1.0], [-11.0, 3.0], [-7.0, -1.0]]  # one above random: not a clear margin
    records = [_returns_record("r0", "random", RANDOM), _returns_record("b0", "sac_n", barely),
               _returns_record("b1", "ewc", SAC_N)]
    text = build_leaderboard(records)
    section = text.split("scenario `halfcheetah_4`")[1]
    assert "**reference not learned**" in section and "| reference not learned |" in section
    ewc_row = next(line for line in section.splitlines() if line.startswith("| ewc |"))
    assert ewc_row.split(" | ")[3].startswith("75.000 [")  # the raw mean return, not a ratio to a sliver
    assert "No method has 3 or more normalized seeds" in text.split("# Per scenario")[0]


def test_single_task_scores_use_the_published_expert_return():
    published = {"normalization": {"kind": "raw", "published_returns": [1000.0]}}
    records = [_returns_record("r0", "random", [[-100.0], [-90.0], [-110.0]], suite="hopper", **published),
               _returns_record("o1", "ft1", [[450.0], [-100.0], [1000.0]], suite="hopper", **published)]
    for record in records:
        record["setting"] = "online"
    per_scenario = build_leaderboard(records).split("# Per scenario")[1]
    row = next(line for line in per_scenario.splitlines() if line.startswith("| ft1 |"))
    assert row.split(" | ")[4] == "expert" and row.split(" | ")[3].startswith("0.500 [")  # IQM of 0.5, 0, 1


def test_locally_built_dataset_is_marked():
    local = {**make_record("d1", "bcq", suite="hopper_medium", kind="d4rl"), "family": "offline",
             "dataset": {"source": "local"}}
    text = build_leaderboard([local, make_record("d2", "iql", suite="hopper_medium", kind="d4rl")])
    assert "| bcq ‡ | sac |" in text and "| iql | sac |" in text
    assert "‡ trained on a dataset built locally" in text


def test_halfcheetah_domain_ratio_sits_beside_rewire_table_1():
    from plasticbench.benchmark.reporting.published import HALFCHEETAH_SCENARIOS

    records = []
    for i, suite in enumerate(HALFCHEETAH_SCENARIOS):
        records += [_returns_record(f"r{i}", "random", RANDOM, suite=suite), _returns_record(f"s{i}", "sac_n", SAC_N, suite=suite),
                    _returns_record(f"p{i}", "packnet", [[50.0, 25.0]] * 3, suite=suite)]  # half of SAC-N's on both tasks
    text = build_leaderboard(records)
    table = text.split("### Published comparison · scale `smoke` · HalfCheetah")[1].split("\n# ")[0]
    assert "| packnet | sac | 0.50 | 0.85 ± 0.14 |" in table and "| sac_n | sac | 1.00 | 1.00 ± 0.15 |" in table
    assert "Published comparison" not in build_leaderboard(records[:-3])  # a scenario missing: no domain mean


def test_a_diverged_seed_scores_the_failure_value_and_is_no_reference():
    """Counted with FAILURE_SCORE (never dropped, which would rank an unstable method by its
    survivors), and left out of the SAC-N reference its returns would drag down."""
    from plasticbench.benchmark.reporting.scores import FAILURE_SCORE, normalize, references

    reference = _returns_record("b0", "sac_n", SAC_N + [[1e6, -1e6]], diverged={"3": 700})
    run = _returns_record("b1", "ewc", [[100.0, 50.0], [45.0, 25.0], [0.0, 0.0]], diverged={"2": 350})
    refs = references([_returns_record("r0", "random", RANDOM), reference, run])
    np.testing.assert_array_equal(refs.measured[("smoke", "halfcheetah_4", "sac")], SAC_N)
    np.testing.assert_allclose(normalize(run, refs).scores, [1.0, 0.5, FAILURE_SCORE])
    kept = normalize({**make_record("m0", "ewc"), "diverged": {"2": 350}}, refs)  # a suite's own scores
    assert kept.scores[2] == FAILURE_SCORE and kept.scores[0] == make_record("m0", "ewc")["scores"][0]


def test_method_whose_events_never_fired_is_listed_apart_not_ranked():
    """Issue #10: a Reset run whose schedule never fired is its learner renamed; it must not be ranked."""
    silent = {**make_record("e1", "reset", offset=9.0), "events": {"kinds": ["reset"], "total": [0, 0, 0]}}
    fired = {**make_record("e2", "redo", offset=3.0), "events": {"kinds": ["recycle"], "total": [4, 0, 2]}}
    text = build_leaderboard([make_record("a1", "ft1"), silent, fired])
    assert "| redo | sac |" in text and "| reset | sac |" not in text
    assert "No event fired (not ranked" in text and "`reset/sac` (3 seeds)" in text
    overall = text.split("# Per scenario")[0]
    assert "| reset |" not in overall and "| redo |" in overall
    only_silent = build_leaderboard([silent])  # a scenario with nothing else still says what happened
    assert "`reset/sac` (3 seeds)" in only_silent


def test_brax_backend_sections_carry_the_not_comparable_label_and_stay_apart():
    brax = [{**make_record(f"x{i}", "ft1"), "suite": "halfcheetah_forgetting_brax", "backend": "brax"} for i in range(2)]
    mujoco = [{**make_record("m1", "ft1"), "suite": "halfcheetah_forgetting", "backend": "mujoco"}]
    sections = build_leaderboard(brax + mujoco).split("\n## ")[1:]
    by_suite = {s.splitlines()[0]: s for s in sections}
    assert "not comparable digit for digit" in by_suite["Scale `smoke` · scenario `halfcheetah_forgetting_brax`"]
    assert "not comparable digit for digit" not in by_suite["Scale `smoke` · scenario `halfcheetah_forgetting`"]


def _offline_record(run_id: str, method: str, finals: list[float], policy_return: float | None) -> dict:
    """A hopper_medium record: D4RL fractions from `finals` with hopper's constants, as record.py writes them."""
    low, high = -20.272305, 3234.3
    record = make_record(run_id, method, suite="hopper_medium", kind="d4rl", family="d4rl", seeds=len(finals))
    record["final_returns"] = [[r] for r in finals]
    record["scores"] = [(r - low) / (high - low) for r in finals]
    record["normalization"] = {"kind": "d4rl", "source": "d4rl_infos", "ref_min": low, "ref_max": high}
    record["dataset"] = {"source": "local" if policy_return is not None else "published", "policy_return": policy_return}
    return record


def test_offline_rows_show_d4rl_score_raw_return_and_dataset_policy_return(tmp_path):
    records = [_offline_record("o1", "iql", [300.0, 400.0, 500.0], 1000.0),
               _offline_record("o2", "bcq", [100.0, 200.0, 600.0], None)]
    write_records(tmp_path, records, [1, 0])
    text = write_leaderboard(tmp_path, tmp_path / "leaderboard.md", draw=False).read_text()
    assert write_leaderboard(tmp_path, tmp_path / "leaderboard.md", draw=False).read_text() == text
    lines = text.split("# Per scenario")[1].splitlines()
    head = next(line for line in lines if line.startswith("| Method |"))
    assert head.endswith("| D4RL x100 | Raw return | Dataset policy return (D4RL x100) |")
    iql = next(line for line in lines if line.startswith("| iql ‡ |")).split(" | ")
    # 100 x (400 + 20.27) / 3254.57 = 12.91 (the mean of the seeds' scores), raw mean 400, policy (1000 + 20.27) / 3254.57 -> 31.3
    assert iql[-3:] == ["12.9", "400.0", "1000.0 (31.3) |"]
    bcq = next(line for line in lines if line.startswith("| bcq |")).split(" | ")
    assert bcq[-3:] == ["9.8", "300.0", "— |"]  # a published file: no policy return to show
    assert head.count("|") == next(line for line in lines if line.startswith("|---") and line.count("---:") > 8).count("|")


def test_online_sections_keep_the_plain_table():
    heads = [line for line in build_leaderboard(RECORDS).splitlines() if line.startswith("| Method | Learner | Seeds |")]
    assert heads and not any("Raw return" in line or "D4RL x100" in line for line in heads)
