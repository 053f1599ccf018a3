"""Normalized per-seed scores for the leaderboard, computed from the run records alone.

References come from the records themselves (metrics-continual.md; scenarios.md §1.6 PROPOSAL),
per task and per learner, as the mean over seeds (and over runs) of the reference method's final
return on that task:
- continual scenarios: SAC-N (`sac_n`: one fresh network per task) of the same learner, scale and
  scenario; a seed's score is the mean over tasks of final_return / reference;
- single-task (plasticity) scenarios: the plain learner, `ft1`, of the same learner and scale.
Only for suites whose scores are returns (RETURN_FAMILIES); success rates, D4RL- and
human-normalized scores are already the suite's definition and are kept from the record.
Where no such record exists, the record's own normalization is kept (a published reference, or
raw returns, which the leaderboard marks and never pools across scenarios). A reference that is
not positive cannot scale returns, so it falls back the same way and says so.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REFERENCE_METHOD = {"continual": "sac_n", "online": "ft1"}  # setting -> method whose returns are 1.0
# Suite families whose scores are returns, normalized here by the reference method's records
# (issue #3: SAC-N for Brax, the plain learner for MuJoCo). Every other family's record already
# holds the suite's own normalized score, kept as is: success rate for Continual World (`success`),
# D4RL-normalized return for offline datasets (`d4rl`), human-normalized score for Atari (`human`),
# all as fractions (1.0 = expert / human; metrics-benchmark.md §5-6).
RETURN_FAMILIES = frozenset({"brax", "mujoco"})
BASELINE_METHOD = "ft1"  # probability of improvement is measured against it (continual and plasticity)


@dataclass(frozen=True)
class Normalized:
    """One run's per-seed scores and how they were normalized."""

    scores: np.ndarray  # [S]
    kind: str  # "sac_n", "ft1" (references from records), the record's own kind ("reference", "raw")
    comparable: bool  # normalized scores that may be pooled across scenarios


def usable_reference(returns: np.ndarray) -> bool:
    """Whether reference returns [N] can scale returns: positive on every task. At or below zero a
    ratio flips sign or explodes (tiny runs that never beat a random policy)."""
    return bool(np.all(np.asarray(returns) > 0))


def d4rl_fraction(returns: np.ndarray, ref_min: float, ref_max: float) -> np.ndarray:
    """D4RL's normalized score as a fraction, (R - REF_MIN) / (REF_MAX - REF_MIN) (scenarios.md §4.2;
    papers print 100x). The range is a published constant pair, never near zero."""
    return (np.asarray(returns, dtype=float) - ref_min) / (ref_max - ref_min)


def _final(record: dict) -> np.ndarray | None:
    final = np.asarray(record.get("final_returns") or [], dtype=float)
    return final if final.ndim == 2 and final.size else None  # [S, N]


def references(records: list[dict]) -> dict[tuple[str, str, str], np.ndarray]:
    """(scale, suite, learner) -> reference final return per task [N], from the reference method's runs."""
    pooled: dict[tuple[str, str, str], list[np.ndarray]] = {}
    for record in records:
        if record.get("method") != REFERENCE_METHOD.get(record.get("setting")):
            continue
        final = _final(record)
        if final is not None:
            pooled.setdefault((record["scale"], record["suite"], record["learner"]), []).append(final)
    out = {}
    for key, finals in pooled.items():
        if len({f.shape[1] for f in finals}) == 1:
            out[key] = np.mean(np.concatenate(finals, axis=0), axis=0)
    return out


def normalize(record: dict, refs: dict[tuple[str, str, str], np.ndarray]) -> Normalized:
    """The record's per-seed scores under the leaderboard's normalization (module docstring)."""
    final = _final(record)
    reference = refs.get((record["scale"], record["suite"], record["learner"]))
    if record.get("family") not in RETURN_FAMILIES:
        reference = None
    if final is not None and reference is not None and final.shape[1] == reference.size and usable_reference(reference):
        kind = REFERENCE_METHOD[record["setting"]]
        return Normalized(np.mean(final / reference, axis=1), kind, True)
    own = record["normalization"]["kind"]
    return Normalized(np.asarray(record["scores"], dtype=float), own, own != "raw")
