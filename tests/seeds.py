"""The seed-independence checks shared by learner, method and run-loop tests.

Seed k's numbers are a function of (k, config, device, thread count, versions) alone, whatever
other seeds share the process (README, "Seeds"), so these checks compare with zero tolerance.
"""
import json

import torch


def assert_seed_matches(batched, index: int, single, roles=None, exact: bool = True) -> None:
    """Seed `index` of a batched learner holds bit for bit the parameters of seed 0 of a one-seed
    learner, in every role of `roles` (default: all of the batched learner's networks); with
    `exact=False`, up to float rounding (for a method whose test says why it is not bit-exact)."""
    for role in roles or batched.networks:
        for (name, p), q in zip(batched.networks[role].named_parameters(), single.networks[role].parameters()):
            if not exact:
                torch.testing.assert_close(p[index], q[0], rtol=1e-5, atol=1e-6, msg=f"{role}.{name}")
                continue
            assert torch.equal(p[index], q[0]), f"{role}.{name}: max |diff| {(p[index] - q[0]).abs().max().item():.3g}"


def assert_matches_single_seed_runs(make, train_task, seeds=(0, 1), tasks: int = 3, exact: bool = True):
    """Train one learner over `seeds` and one per seed through `tasks` tasks with `train_task(learner, method,
    index, seeds)`; every seed of the first equals its own run. Returns the batched (learner, method) and the
    single-seed pairs, for method-specific checks."""
    batched = make(seeds=tuple(seeds))
    for task in range(tasks):
        train_task(*batched, task, list(seeds))
    singles = []
    for i, seed in enumerate(seeds):
        single = make(seeds=(seed,))
        for task in range(tasks):
            train_task(*single, task, [seed])
        assert_seed_matches(batched[0], i, single[0], exact=exact)
        singles.append(single)
    return batched, singles


def seed_slice(record: dict, index: int) -> dict:
    """Everything a record says about its seed `index` (the per-seed fields of results/README.md)."""
    per_seed_rows = lambda rows: [None if row is None else row[index] for row in rows]
    return {
        "seed": record["seeds"][index],
        "returns": [per_seed_rows(row) for row in record["curves"]["returns"]],
        "task_end_returns": per_seed_rows(record["task_end_returns"]),
        "final_returns": record["final_returns"][index],
        "score": record["scores"][index],
        "metrics": {name: values[index] for name, values in record["metrics"].items()},
        "plasticity": {name: per_seed_rows(rows) for name, rows in record["plasticity"]["curves"].items()},
    }


def assert_same_seed_record(a: dict, index_a: int, b: dict, index_b: int) -> None:
    """Seed `index_a` of record `a` and seed `index_b` of record `b` carry the same numbers, bit for
    bit (compared as JSON text, so NaN equals NaN and 0.1 + 2e-17 does not equal 0.1)."""
    left, right = seed_slice(a, index_a), seed_slice(b, index_b)
    for key in left:
        assert json.dumps(left[key], sort_keys=True) == json.dumps(right[key], sort_keys=True), key
