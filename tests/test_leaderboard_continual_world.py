"""The leaderboard's Continual World section from synthetic CW records: both intervals, ranked by
average performance, one table per success mode, never pooled with return suites, byte-identical."""

import json

import numpy as np
import pytest

from plasticbench.benchmark.metrics.continual_world import group_forward_transfer, success_array, window_auc
from plasticbench.benchmark.reporting.cw_bootstrap import forward_transfer_interval, mean_interval
from plasticbench.benchmark.reporting.leaderboard import build_leaderboard, iqm_interval, write_leaderboard
from plasticbench.benchmark.reporting.scores import FAILURE_SCORE
from plasticbench.benchmark.success_scoring import success_scored
from tools.synthetic_records import success_record

RECORDS = [
    success_record("s1", "scratch", skill=0.5),
    success_record("f1", "ft1", skill=0.7, retention=0.2),
    success_record("f2", "ft1", skill=0.7, retention=0.2, seeds=2),
    success_record("p1", "packnet", skill=0.6, retention=1.0),
    success_record("a1", "ft1", success_mode="any", skill=0.9, retention=0.2),
    success_record("z1", "ewc", seeds=2),
]


def _section(text: str, mode: str) -> str:
    return text.split(f"Continual World `cw3_t1` · success mode `{mode}`")[1].split("\n## ")[0]


def _cells(section: str, method: str) -> list[str]:
    return next(line for line in section.splitlines() if line.startswith(f"| {method} |")).split(" | ")


def _fmt(interval) -> str:
    return "{:.3f} [{:.3f}, {:.3f}]".format(*interval)


def test_cw_table_shows_both_intervals_ranked_by_average_performance():
    section = _section(build_leaderboard(RECORDS), "last")
    assert "| Average performance [90% CI] | IQM [95% CI] | Forgetting [90% CI] | Forward transfer [90% CI] |" in section
    ft1 = RECORDS[1:3]
    perf = np.concatenate([r["scores"] for r in ft1])  # 3 + 2 seeds pooled
    forgetting = np.concatenate([r["metrics"]["forgetting"] for r in ft1])
    auc = np.concatenate([window_auc(success_array(r["curves"]["success"], len(r["seeds"])), np.array(r["curves"]["steps"]),
                                     r["task_bounds"]) for r in ft1])
    ref = window_auc(success_array(RECORDS[0]["curves"]["success"], 3), np.array(RECORDS[0]["curves"]["steps"]),
                     RECORDS[0]["task_bounds"])
    cells = _cells(section, "ft1")
    assert cells[2] == "5" and cells[3] == _fmt(mean_interval(perf)) and cells[4] == _fmt(iqm_interval(perf))
    assert cells[5] == _fmt(mean_interval(forgetting)) and cells[6] == _fmt(forward_transfer_interval(auc, ref)) + " |"
    assert forward_transfer_interval(auc, ref)[0] == pytest.approx(group_forward_transfer(auc, ref))
    rows = [line.split(" | ")[0][2:] for line in section.split("Below the minimum")[0].splitlines() if line.startswith("| ")][1:]
    means = {m: float(_cells(section, m)[3].split()[0]) for m in rows}
    assert sorted(rows) == ["ft1", "packnet", "scratch"] and list(means.values()) == sorted(means.values(), reverse=True)
    assert _cells(section, "scratch")[6] == "— |"  # the reference itself has no transfer
    assert "| ewc | sac | 2 |" in section.split("Below the minimum of 3 seeds")[1]
    assert "Success mode `last`: an episode succeeds if `success` is true at its last step" in section
    assert "`scratch` runs of this scenario, scale, learner and mode, 3 seeds per task" in section


def test_success_modes_get_separate_tables_and_no_reference_means_no_transfer():
    any_mode = _section(build_leaderboard(RECORDS), "any")
    assert "| ft1 | sac | 3 |" in any_mode and "packnet" not in any_mode  # the any-mode ft1 run only
    assert _cells(any_mode, "ft1")[6] == "— |" and "none (no `scratch` record" in any_mode


def test_cw_records_are_never_pooled_with_return_suites():
    returns = {"schema_version": 1, "run_id": "m1", "method": "ft1", "learner": "sac", "suite": "halfcheetah",
               "family": "mujoco", "setting": "continual", "scale": "smoke", "seeds": [0, 1, 2], "scores": [1.0, 2.0, 3.0],
               "final_returns": [[1.0], [2.0], [3.0]], "normalization": {"kind": "raw"}}
    text = build_leaderboard([*RECORDS, returns])
    general, cw = text.split("# Continual World")
    assert "cw3_t1" not in general and "halfcheetah" not in cw
    assert "Scenarios (1)" not in general  # the return suite's raw scores form no aggregate with CW's
    assert general.rstrip("\n") == build_leaderboard([returns]).rstrip("\n")  # not a byte of it changed


def test_record_scores_are_success_metrics_and_a_diverged_seed_fails():
    record = {**RECORDS[1], "diverged": {"1": 900}, "normalization": {"kind": "success", "source": "info_success"}}
    fields = success_scored(record, [RECORDS[0], RECORDS[4]])  # the any-mode run is no reference for a last-mode run
    assert fields["scores"][1] == FAILURE_SCORE and fields["scores"][0] == RECORDS[1]["metrics"]["average_performance"][0]
    assert all(v[1] is None for k, v in fields["metrics"].items() if k != "final_dormant_ratio")
    assert fields["normalization"] == {"kind": "success", "source": "info_success", "success_mode": "last",
                                       "reference_runs": ["s1"]}
    full = success_scored(RECORDS[1], [RECORDS[0]])["metrics"]["forward_transfer"]
    auc = window_auc(success_array(RECORDS[1]["curves"]["success"], 3), np.array(RECORDS[1]["curves"]["steps"]), RECORDS[1]["task_bounds"])
    ref = window_auc(success_array(RECORDS[0]["curves"]["success"], 3), np.array(RECORDS[0]["curves"]["steps"]), RECORDS[0]["task_bounds"])
    assert np.mean(full) == pytest.approx(group_forward_transfer(auc, ref))  # per-seed values average to CW's FT
    with pytest.raises(ValueError, match=r"has no curves\['success'\]"):
        success_scored({**RECORDS[1], "curves": {"steps": [1]}}, [])


def test_cw_section_and_its_figure_regenerate_byte_identically(tmp_path):
    for record in RECORDS:
        (tmp_path / "runs" / record["run_id"]).mkdir(parents=True)
        (tmp_path / "runs" / record["run_id"] / "record.json").write_text(json.dumps(record))
    out, figs = tmp_path / "leaderboard.md", tmp_path / "fig"
    first = write_leaderboard(tmp_path, out, figs, workers=1).read_bytes()
    figures = {p.name: p.read_bytes() for p in sorted(figs.iterdir())}
    second = write_leaderboard(tmp_path, out, figs, workers=2).read_bytes()
    assert first == second and build_leaderboard(RECORDS[::-1], figures_link="fig") == first.decode()
    assert figures == {p.name: p.read_bytes() for p in sorted(figs.iterdir())}
    svg = figures["smoke-cw3_t1-last-success.svg"].decode()
    assert svg.count('id="task-boundary-') == 2 * 3  # 3 tasks, a panel per task
    assert "smoke-cw3_t1-any-success.svg" in figures and "fig/smoke-cw3_t1-last-success.svg" in first.decode()


def test_published_comparisons_sit_beside_their_own_protocol():
    """Mode last: CW3 = mean over the 8 triplets, beside Rewire Table 2; mode any: CW20 beside CW's table."""
    triplets = [success_record(f"t{i}", "ft1", suite=f"cw3_t{i}", skill=0.1 * i) for i in range(1, 9)]
    cw20 = success_record("w1", "packnet", suite="cw20", success_mode="any", n_tasks=4)
    extra = success_record("t9", "ft1", suite="cw3_t1", seeds=2, skill=0.9)  # pooled into triplet 1's mean
    reference = success_record("w0", "scratch", suite="cw20", success_mode="any", n_tasks=4)
    text = build_leaderboard([*triplets, extra, cw20, reference])
    last = text.split("## Published comparison · scale `smoke` · success mode `last` (Rewire Table 2)")[1].split("\n## ")[0]
    per_triplet = [np.mean(t["scores"] + (extra["scores"] if i == 0 else [])) for i, t in enumerate(triplets)]
    assert f"| ft1 | sac | {np.mean(per_triplet):.2f} ± {np.std(per_triplet):.2f} | 0.29 ± 0.10 | — | 0.10 ± 0.01 |" in last
    assert "Published comparison · scale `smoke` · success mode `last`" not in build_leaderboard(triplets[:-1])  # 7 of 8
    any_mode = text.split("success mode `any` (Continual World, CW20)")[1].split("\n## ")[0]
    p = mean_interval(np.array(cw20["scores"]))
    assert f"| packnet | sac | {p[0]:.2f} [{p[1]:.2f}, {p[2]:.2f}] | 0.80 [0.79, 0.82] |" in any_mode
    assert "| scratch |" not in any_mode  # the reference has no published row


def test_a_cw_record_without_success_curves_is_refused_with_its_reason():
    broken = {**RECORDS[1], "curves": {"steps": [1], "returns": [[[0.0] * 3]]}}
    with pytest.raises(ValueError, match="'f1'.*needs curves.success"):
        build_leaderboard([broken])
