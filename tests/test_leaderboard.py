"""Leaderboard from synthetic run records: deterministic, scale-separated, robust to bad files."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from plasticbench.benchmark.reporting.leaderboard import build_leaderboard, load_records, write_leaderboard


def make_record(run_id: str, method: str, scale: str = "smoke", suite: str = "halfcheetah_4",
                seeds: int = 3, offset: float = 0.0, kind: str = "reference") -> dict:
    """A schema-1 record with reproducible per-seed scores (the run loop's output format)."""
    rng = np.random.RandomState(sum(map(ord, run_id + method)))
    n_tasks = 2
    scores = (offset + rng.rand(seeds)).round(6).tolist()
    return {
        "schema_version": 1, "run_id": run_id, "method": method, "learner": "sac", "suite": suite,
        "family": "brax", "setting": "continual", "backend": "torch", "scale": scale,
        "seeds": list(range(seeds)), "tasks": [f"t{i}" for i in range(n_tasks)],
        "final_returns": rng.rand(seeds, n_tasks).round(6).tolist(), "scores": scores,
        "normalization": {"kind": kind, "reference_returns": [1.0] * n_tasks if kind == "reference" else None},
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


def test_only_return_suites_are_renormalized_by_records():
    """Brax returns are divided by SAC-N's; Continual World success rates stay success rates."""
    from plasticbench.benchmark.reporting.stats import iqm

    def cw(run_id: str, method: str) -> dict:
        record = make_record(run_id, method, suite="cw10", kind="success")
        return {**record, "family": "metaworld", "final_returns": [[2.0, 2.0]] * 3}

    records = [make_record("b0", "sac_n", offset=1.0), make_record("b1", "ewc", offset=2.0), cw("c0", "sac_n"), cw("c1", "ewc")]
    text = build_leaderboard(records)
    row = {suite: next(line for line in text.split(f"scenario `{suite}`")[1].splitlines() if line.startswith("| ewc |"))
           for suite in ("halfcheetah_4", "cw10")}
    assert row["halfcheetah_4"].split(" | ")[4] == "sac_n"  # the Normalization column
    assert row["cw10"].split(" | ")[4] == "success"
    assert row["cw10"].split(" | ")[3].startswith(f"{iqm(np.array(records[3]['scores'])):.3f} [")


def test_locally_built_dataset_is_marked():
    local = {**make_record("d1", "bcq", suite="hopper_medium", kind="d4rl"), "family": "offline",
             "dataset": {"source": "local"}}
    text = build_leaderboard([local, make_record("d2", "iql", suite="hopper_medium", kind="d4rl")])
    assert "| bcq ‡ | sac |" in text and "| iql | sac |" in text
    assert "‡ trained on a dataset built locally" in text


def test_brax_backend_sections_carry_the_not_comparable_label_and_stay_apart():
    brax = [{**make_record(f"x{i}", "ft1"), "suite": "halfcheetah_forgetting_brax", "backend": "brax"} for i in range(2)]
    mujoco = [{**make_record("m1", "ft1"), "suite": "halfcheetah_forgetting", "backend": "mujoco"}]
    sections = build_leaderboard(brax + mujoco).split("\n## ")[1:]
    by_suite = {s.splitlines()[0]: s for s in sections}
    assert "not comparable digit for digit" in by_suite["Scale `smoke` · scenario `halfcheetah_forgetting_brax`"]
    assert "not comparable digit for digit" not in by_suite["Scale `smoke` · scenario `halfcheetah_forgetting`"]
