"""The seed-independence check shared by learner and method tests."""
import torch


def assert_seed_matches(batched, index: int, single, roles=None, atol: float = 1e-5) -> None:
    """Seed `index` of a batched learner has the parameters of seed 0 of a one-seed learner, in
    every role of `roles` (default: all of the batched learner's networks), rtol 1e-5."""
    for role in roles or batched.networks:
        for (name, p), q in zip(batched.networks[role].named_parameters(), single.networks[role].parameters()):
            torch.testing.assert_close(p[index], q[0], rtol=1e-5, atol=atol, msg=f"{role}.{name}")


def assert_matches_single_seed_runs(make, train_task, seeds=(0, 1), tasks: int = 3, atol: float = 1e-6):
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
        assert_seed_matches(batched[0], i, single[0], atol=atol)
        singles.append(single)
    return batched, singles
