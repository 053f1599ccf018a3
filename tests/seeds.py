"""The seed-independence check shared by learner and method tests."""
import torch


def assert_seed_matches(batched, index: int, single, roles=None, atol: float = 1e-5) -> None:
    """Seed `index` of a batched learner has the parameters of seed 0 of a one-seed learner, in
    every role of `roles` (default: all of the batched learner's networks), rtol 1e-5."""
    for role in roles or batched.networks:
        for (name, p), q in zip(batched.networks[role].named_parameters(), single.networks[role].parameters()):
            torch.testing.assert_close(p[index], q[0], rtol=1e-5, atol=atol, msg=f"{role}.{name}")
