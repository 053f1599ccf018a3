"""tools/rewire_table3.py: rows find exactly their ablation's records, and the score is the papers' ratio."""
import pytest

from tools.rewire_table3 import COMPARISON, TABLE3, row_matches, table

SCALE = {"name": "short", "steps_per_task": 1000}


def record(method, final, **switches):
    config = {"modes": 3, "caching": True, "alignment": True, **switches} if method == "rewire" else {}
    return {"method": method, "final_returns": final, "config": {"method_config": config, "scale": SCALE}}


def test_each_ablation_row_matches_only_its_own_switches():
    full, no_align = record("rewire", [[1, 1]]), record("rewire", [[1, 1]], alignment=False)
    assert row_matches(TABLE3[-1], full) and not row_matches(TABLE3[-1], no_align)
    assert row_matches(TABLE3[3], no_align) and not row_matches(TABLE3[3], full)  # + multi-mode: alignment off
    assert sum(row_matches(row, record("rewire", [[1, 1]], modes=1, caching=False, alignment=False)) for row in TABLE3) == 1


def test_the_score_is_final_over_sac_n_per_task_averaged_over_tasks():
    records = [record("sac_n", [[100.0, 200.0], [300.0, 400.0]]), record("ft1", [[200.0, 150.0], [0.0, 300.0]])]
    lines = table(records, COMPARISON, "t")
    (ft1,) = [line for line in lines if line.startswith("| FT-1 |")]
    # reference per task [200, 300]: seed 0 -> (1 + 0.5) / 2 = 0.75, seed 1 -> (0 + 1) / 2 = 0.5
    assert "| 2 | 0.62 ± 0.18 |" in ft1 and ft1.endswith("| 0.62 ± 0.29 |")
    assert any(line.startswith("| PackNet | packnet | 0 | — |") for line in lines)


def test_records_of_two_scales_are_refused():
    other = {**record("sac_n", [[1.0]]), "config": {"method_config": {}, "scale": {"name": "paper"}}}
    with pytest.raises(ValueError, match="2 different scales"):
        table([record("sac_n", [[1.0]]), other], COMPARISON, "t")
