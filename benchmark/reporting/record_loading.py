"""Reading run records for the leaderboard: which files are valid schema-1 records.

Kept apart from the store (which writes records and checkpoints and needs torch) so that the
leaderboard reads 10,000 records without importing a learner.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from plasticbench.benchmark.metrics.continual_world import FAMILY as SUCCESS_FAMILY

SCHEMA_VERSION = 1
# expert, sac_n, ft1: (R - R_random) / (R_reference - R_random) with that reference; raw: unnormalized
# returns (never pooled); "reference not learned": raw, the reference did not beat random by a clear
# margin; success, d4rl, human: the suite's own normalized score (benchmark/reporting/scores.py);
# reference: the older return / reference ratio (records before harness 0.4).
NORMALIZATION_KINDS = ("expert", "sac_n", "ft1", "raw", "reference not learned", "success", "d4rl", "human", "reference")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def record_problem(record: Any) -> str | None:
    """Why ``record`` cannot be used on the leaderboard, or None when it can."""
    if not isinstance(record, dict):
        return f"expected a JSON object, got {type(record).__name__}"
    if record.get("schema_version") != SCHEMA_VERSION:
        return f"schema_version {record.get('schema_version')!r} is not the supported {SCHEMA_VERSION}"
    for key in ("run_id", "method", "learner", "suite", "scale"):
        if not isinstance(record.get(key), str) or not record[key]:
            return f"field {key!r} must be a non-empty string, got {record.get(key)!r}"
    scores = record.get("scores")
    if not isinstance(scores, list) or not scores or not all(is_number(s) for s in scores):
        return f"field 'scores' must be a non-empty list of numbers, got {scores!r}"
    normalization = record.get("normalization")
    kind = normalization.get("kind") if isinstance(normalization, dict) else None
    if kind not in NORMALIZATION_KINDS:
        return f"normalization.kind must be one of {NORMALIZATION_KINDS}, got {kind!r}"
    if record.get("family") == SUCCESS_FAMILY and not (record.get("curves") or {}).get("success"):
        return "a continual_world record needs curves.success (its metrics are computed from it)"
    return None


def load_records(results_dir: Path) -> list[dict]:
    """Every valid ``results_dir/runs/*/record.json``, sorted by run_id.

    A file that is unreadable, not JSON, or not a schema-1 record is skipped with a warning naming
    it, so one half-written or foreign file never stops the leaderboard. A run_id seen twice keeps
    its first file (in path order) and warns: pooling one run twice would double its seeds.
    """
    records: dict[str, dict] = {}
    for path in sorted(Path(results_dir).glob("runs/*/record.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            warnings.warn(f"skipping run record {path}: {err}", stacklevel=2)
            continue
        problem = record_problem(record)
        if problem is not None:
            warnings.warn(f"skipping run record {path}: {problem}", stacklevel=2)
            continue
        if record["run_id"] in records:
            warnings.warn(f"skipping run record {path}: duplicate run_id {record['run_id']!r}", stacklevel=2)
            continue
        records[record["run_id"]] = record
    return [records[run_id] for run_id in sorted(records)]
