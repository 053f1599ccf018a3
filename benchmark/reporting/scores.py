"""Bounded, comparable scores: score = (R - R_random) / (R_reference - R_random), from records alone.

ARCHITECTURE.md "Scores": R_random is the uniform-random policy's return on the task under the same
evaluation protocol, measured by the harness and stored as a record of its own (method `random`,
benchmark/random_policy.py); R_reference is
- for single-task (online) return suites: the published expert return the record carries in
  `normalization.published_returns` (D4RL's REF_MAX for MuJoCo, envs/mujoco.py); a task without
  one falls back to the plain learner (`ft1`) of the same learner and scale, as measured here;
- for continual scenarios: SAC-N (`sac_n`) of the same learner, scale and scenario, per task,
  mean over its seeds (Rewire Table 1, scenarios-halfcheetah.md "Score normalization").
A score of 0 is random, 1 is the reference. A reference must beat random by a clear margin on
every task (`reference_learned`); otherwise the scenario is "reference not learned": its rows keep
raw returns and are never pooled, since dividing by a near-zero gap is what made the old
ratio-to-ft1 scores explode (issue #10: IQM 168.8 for ne/td3 on ant at smoke).
Suites that define their own score (Continual World success, D4RL-normalized, human-normalized)
keep the record's value. The papers' own ratio (final return / SAC-N) is kept apart
(`paper_ratio`), for comparison with results-to-reproduce.md only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RANDOM_METHOD = "random"  # the uniform-random policy's records (benchmark/random_policy.py)
REFERENCE_METHOD = {"continual": "sac_n", "online": "ft1", "multitask": "ft1"}  # measured references, per setting
RETURN_FAMILIES = frozenset({"brax", "mujoco"})  # families whose records hold raw returns
BASELINE_METHOD = "ft1"  # probability of improvement is measured against it (continual and plasticity)
NOT_LEARNED = "reference not learned"
# The clear margin (`reference_learned`): the reference's mean beats the random mean by more than
# MARGIN_SE standard errors of the difference (Welch: each side's seeds are its samples), and by
# more than MARGIN_FRACTION of |R_reference| + |R_random|, so that the denominator is neither noise
# nor a sliver of the returns' own size. A published constant has no standard error.
MARGIN_SE = 3.0
MARGIN_FRACTION = 0.25
# The score of a seed that diverged (the record's `diverged` field; baselines/divergence.py): the
# random policy's level, the floor of every normalization here. The seed is counted, not dropped:
# dropping it would rank an unstable method by its survivors only.
FAILURE_SCORE = 0.0


@dataclass(frozen=True)
class Normalized:
    """One run's per-seed scores and how they were normalized."""

    scores: np.ndarray  # [S]
    kind: str  # "expert" (published), "sac_n", "ft1" (measured references), the record's own kind, "raw", NOT_LEARNED
    comparable: bool  # normalized scores that may be pooled across scenarios


@dataclass(frozen=True)
class TaskReference:
    """Per-task R_random and R_reference [N] and where the reference came from."""

    random: np.ndarray  # [N]
    reference: np.ndarray  # [N]
    kind: str  # "expert", "sac_n", "ft1"
    learned: bool


def d4rl_fraction(returns: np.ndarray, ref_min: float, ref_max: float) -> np.ndarray:
    """D4RL's normalized score as a fraction, (R - REF_MIN) / (REF_MAX - REF_MIN) (scenarios.md §4.2;
    papers print 100x). The range is a published constant pair, never near zero."""
    return (np.asarray(returns, dtype=float) - ref_min) / (ref_max - ref_min)


def human_normalized(returns: np.ndarray, random: np.ndarray, human: np.ndarray) -> np.ndarray:
    """Atari's human-normalized score (metrics-benchmark.md §6, [DQNZ] `get_human_normalized_score`):
    (R - random) / (human - random) per task over the last axis [..., N], a fraction (1.0 = human). The
    published pairs are never close (the smallest gap is double_dunk's 2.2 points)."""
    return (np.asarray(returns, dtype=float) - np.asarray(random, float)) / (np.asarray(human, float) - np.asarray(random, float))


def reference_learned(reference: np.ndarray, random: np.ndarray) -> bool:
    """Whether returns `reference` [S_ref, N] (or [N] for a constant) beat `random` [S_rand, N] by a
    clear margin on every task (module docstring: MARGIN_SE and MARGIN_FRACTION)."""
    ref, rnd = np.atleast_2d(np.asarray(reference, float)), np.atleast_2d(np.asarray(random, float))
    gap = ref.mean(axis=0) - rnd.mean(axis=0)
    se = np.sqrt(_sq_se(ref) + _sq_se(rnd))
    size = np.abs(ref.mean(axis=0)) + np.abs(rnd.mean(axis=0))
    return bool(np.all(np.isfinite(gap)) and np.all(gap > MARGIN_SE * se) and np.all(gap > MARGIN_FRACTION * size))


def _sq_se(samples: np.ndarray) -> np.ndarray:
    """Squared standard error of the mean of each column (0 for a single sample)."""
    n = samples.shape[0]
    return samples.var(axis=0, ddof=1) / n if n > 1 else np.zeros(samples.shape[1])


def normalize_returns(returns: np.ndarray, ref: TaskReference) -> np.ndarray:
    """(R - R_random) / (R_reference - R_random) per task, broadcast over the last axis [..., N]."""
    return (np.asarray(returns, float) - ref.random) / (ref.reference - ref.random)


def final_returns(record: dict) -> np.ndarray | None:
    final = np.asarray(record.get("final_returns") or [], dtype=float)
    return final if final.ndim == 2 and final.size else None  # [S, N]


def diverged_seeds(record: dict) -> np.ndarray:
    """[S] bool: which of the record's seeds diverged (none for records written before the field)."""
    diverged = {str(seed) for seed in record.get("diverged") or {}}
    return np.array([str(seed) in diverged for seed in record.get("seeds") or []], dtype=bool)


def healthy_final_returns(record: dict) -> np.ndarray | None:
    """Final returns [S', N] of the seeds that did not diverge: a diverged seed is no reference."""
    final, diverged = final_returns(record), diverged_seeds(record)
    if final is None or diverged.size != final.shape[0]:
        return final
    return final[~diverged] if (~diverged).any() else None


def _pool(records: list[dict], method_of: dict[str, str] | None, method: str | None) -> dict[tuple, np.ndarray]:
    """(scale, suite[, learner]) -> seeds of every matching record's final returns, stacked [S_total, N]."""
    pooled: dict[tuple, list[np.ndarray]] = {}
    for record in records:
        wanted = method if method is not None else (method_of or {}).get(record.get("setting"))
        final = healthy_final_returns(record)
        if record.get("method") != wanted or final is None:
            continue
        key = (record["scale"], record["suite"]) if method == RANDOM_METHOD else (record["scale"], record["suite"], record["learner"])
        pooled.setdefault(key, []).append(final)
    return {key: np.concatenate(finals) for key, finals in pooled.items() if len({f.shape[1] for f in finals}) == 1}


@dataclass(frozen=True)
class References:
    """Everything a score needs from the other records: random returns and measured references."""

    random: dict[tuple[str, str], np.ndarray]  # (scale, suite) -> [S, N]
    measured: dict[tuple[str, str, str], np.ndarray]  # (scale, suite, learner) -> [S, N]


def references(records: list[dict]) -> References:
    """The random and measured-reference returns found among `records`, pooled over runs and seeds."""
    return References(_pool(records, None, RANDOM_METHOD), _pool(records, REFERENCE_METHOD, None))


def task_reference(record: dict, refs: References) -> TaskReference | None:
    """R_random and R_reference per task for `record`, or None when either is missing."""
    random = refs.random.get((record["scale"], record["suite"]))
    published = (record.get("normalization") or {}).get("published_returns")
    if published is not None and all(v is not None for v in published):
        reference, kind = np.asarray(published, float), "expert"
    else:
        reference = refs.measured.get((record["scale"], record["suite"], record["learner"]))
        kind = REFERENCE_METHOD.get(record.get("setting"), "")
    if random is None or reference is None or np.shape(reference)[-1] != random.shape[1]:
        return None
    learned = reference_learned(reference, random)
    mean_ref = reference if reference.ndim == 1 else reference.mean(axis=0)
    return TaskReference(random.mean(axis=0), mean_ref, kind, learned)


def normalize(record: dict, refs: References) -> Normalized:
    """The record's per-seed scores under the leaderboard's normalization (module docstring); a
    diverged seed scores FAILURE_SCORE."""
    normalized = _normalize(record, refs)
    diverged = diverged_seeds(record)
    if diverged.any() and diverged.size == normalized.scores.size:
        return Normalized(np.where(diverged, FAILURE_SCORE, normalized.scores), normalized.kind, normalized.comparable)
    return normalized


def _normalize(record: dict, refs: References) -> Normalized:
    own = record["normalization"]["kind"]
    if record.get("family") not in RETURN_FAMILIES:
        return Normalized(np.asarray(record["scores"], dtype=float), own, own != "raw")
    final = final_returns(record)
    ref = task_reference(record, refs) if final is not None else None
    if ref is None:
        return Normalized(np.mean(final, axis=1) if final is not None else np.asarray(record["scores"], float), "raw", False)
    if not ref.learned:
        return Normalized(np.mean(final, axis=1), NOT_LEARNED, False)
    return Normalized(np.mean(normalize_returns(final, ref), axis=1), ref.kind, True)


def paper_ratio(record: dict, refs: References) -> np.ndarray | None:
    """Per seed, the papers' own score: mean over tasks of final return / SAC-N's (Rewire Table 1;
    results-to-reproduce.md §1). Only for continual return suites whose SAC-N is positive on every
    task; a ratio to a non-positive return has no meaning."""
    final = final_returns(record)
    if record.get("setting") != "continual" or record.get("family") not in RETURN_FAMILIES or final is None:
        return None
    reference = refs.measured.get((record["scale"], record["suite"], record["learner"]))
    if reference is None or reference.shape[1] != final.shape[1] or np.any(reference.mean(axis=0) <= 0):
        return None
    return np.mean(final / reference.mean(axis=0), axis=1)
