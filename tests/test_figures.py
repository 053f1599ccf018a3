"""Leaderboard figures: every kind is drawn from real-format records, byte-identical on regeneration
and independent of how many processes draw them; plasticity curves are read from the schema."""

import numpy as np

from plasticbench.benchmark.reporting.leaderboard import PLASTICITY_PANELS, plasticity_series, write_leaderboard
from plasticbench.benchmark.store import RunStore
from tools.synthetic_records import METHODS, SCENARIOS, synthetic_record

CELLS_PER_SCALE = len(METHODS) * len(SCENARIOS) * 2  # x learners


def _smoke_records(results_dir) -> None:
    """random, ft1, sac_n and reset with SAC on every synthetic scenario, at the smoke scale (3 seeds each)."""
    for index in range(CELLS_PER_SCALE):
        record = synthetic_record(index)
        if record["learner"] in ("sac", "none") and record["method"] in ("random", "ft1", "sac_n", "reset"):
            RunStore(results_dir, record["run_id"]).write_record(record)


def _files(directory) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_every_figure_kind_is_drawn_and_regenerates_byte_identically(tmp_path):
    _smoke_records(tmp_path / "results")
    out = tmp_path / "leaderboard.md"
    write_leaderboard(tmp_path / "results", out, tmp_path / "a", workers=1)
    write_leaderboard(tmp_path / "results", out, tmp_path / "b", workers=2)
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first == second  # same bytes, whatever the number of drawing processes
    kinds = {name.rsplit("-", 1)[1] for name in first}
    assert kinds >= {"curves.png", "curves.svg", "plasticity.svg", "aggregates.svg", "profiles.svg", "task_matrix.svg"}
    text = out.read_text()
    for name in first:  # every figure is linked from the markdown, and only existing ones
        assert name in text
    assert text.count(".svg)") == len(first) // 2


def test_plasticity_series_reads_the_record_schema():
    steps = [100, 200]
    record = {"plasticity": {"steps": steps, "curves": {
        "dormant_ratio_tau0.1": [[0.1, 0.3], [0.2, 0.4]],
        "critic_srank": [[5.0, 7.0]],  # wrong length: an old or broken record, left out
        "actor_fau": [[0.5, 0.5], [0.5, 0.5]],  # recorded but not a panel
    }}}
    series = plasticity_series(record)
    assert list(series) == ["dormant_ratio_tau0.1"]
    got_steps, values = series["dormant_ratio_tau0.1"]
    assert got_steps == (100, 200) and np.allclose(values, [0.2, 0.3])
    assert plasticity_series({"plasticity": [1, 2]}) == {} and plasticity_series({}) == {}
    assert "dormant_ratio_tau0.1" in PLASTICITY_PANELS
