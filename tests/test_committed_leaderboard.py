"""The committed records and leaderboard.md: every pooled score in a sane range, never scaled by a
reference that did not beat the random policy.

These walk `results/`, which only the integrator regenerates. They skip while the committed
records predate the random-policy measurement (no `random` record) or come from another harness
version than this checkout's: such records hold no R_random, so there is nothing to check yet.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from plasticbench.benchmark.config import HARNESS_VERSION
from plasticbench.benchmark.reporting.leaderboard import _groups
from plasticbench.benchmark.reporting.record_loading import load_records
from plasticbench.benchmark.reporting.scores import RANDOM_METHOD

ROOT = Path(__file__).resolve().parents[1]
MAX_SCORE = 5.0


@pytest.fixture(scope="module")
def records() -> list[dict]:
    found = load_records(ROOT / "results")
    versions = sorted({str((r.get("config") or {}).get("harness_version")) for r in found})
    assert any(r["method"] == RANDOM_METHOD for r in found) and versions == [HARNESS_VERSION], \
        (f"committed records (harness {versions}) predate the random-policy measurement or this harness "
         f"({HARNESS_VERSION}): regenerate results/runs (`plasticbench suite scale=smoke`) before committing")
    return found


def _mean_final(record: dict) -> np.ndarray:
    return np.mean(np.asarray(record["final_returns"], float), axis=0)


def test_pooled_references_beat_random_on_every_task(records):
    """Checked from the records directly, not through the scoring code: every pooled row's
    reference returns exceed the random policy's on every task."""
    random = {}
    for r in records:
        if r["method"] == RANDOM_METHOD:
            random.setdefault((r["scale"], r["suite"]), []).append(_mean_final(r))
    for (scale, suite), groups in _groups(records).items():
        for (method, learner, kind), group in groups.items():
            if not group.comparable or kind in ("raw", "reference not learned") or group.records[0]["family"] not in ("mujoco", "brax"):
                continue
            floor = np.mean(random[(scale, suite)], axis=0)
            for record in group.records:
                published = record["normalization"].get("published_returns")
                reference = np.asarray(published if published else record["normalization"]["reference_returns"], float)
                assert np.all(reference > floor), f"{method}/{learner} on {suite} ({scale}): {reference} vs random {floor}"


def test_pooled_scores_are_bounded(records):
    for (scale, suite), groups in _groups(records).items():
        for (method, learner, kind), group in groups.items():
            if group.comparable and kind not in ("raw", "reference not learned"):
                scores = np.concatenate(group.scores)
                assert np.all(np.abs(scores) <= MAX_SCORE), f"{method}/{learner} on {suite} ({scale}): {scores}"


def test_overall_aggregates_in_leaderboard_md_are_bounded(records):
    text = (ROOT / "leaderboard.md").read_text()
    overall = text.split("# Per scenario")[0]
    rows = [line.split(" | ") for line in overall.splitlines() if re.match(r"\| [^|]+ \| [^|]+ \| -?\d", line)]
    points = [float(cell.split(" [")[0]) for cells in rows for cell in cells[2:5]]  # IQM, median, mean
    assert points, "no overall aggregate in leaderboard.md"
    assert max(abs(p) for p in points) <= MAX_SCORE
