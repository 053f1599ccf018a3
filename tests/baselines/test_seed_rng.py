import math

import torch

from plasticbench.baselines.seed_rng import _GOLDEN, SeedRNG, _signed, splitmix64


def test_a_seed_draws_the_same_numbers_alone_or_among_others():
    together, alone = SeedRNG([3, 7, 11]), SeedRNG([7])
    for draw in ("uniform", "normal"):
        assert torch.equal(getattr(together, draw)(5, 4)[1], getattr(alone, draw)(5, 4)[0])
    assert torch.equal(together.integers(torch.tensor([10, 20, 30]), 6)[1], alone.integers(20, 6)[0])


def test_streams_differ_between_seeds_and_between_draws():
    rng = SeedRNG([0, 1])
    first, second = rng.uniform(100), rng.uniform(100)
    assert not torch.equal(first[0], first[1])
    assert not torch.equal(first, second)


def test_distributions_have_the_right_moments_and_bounds():
    rng = SeedRNG([0, 1])
    u, n = rng.uniform(200_000), rng.normal(200_000)
    assert 0 < u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01 and abs(n.mean()) < 0.01 and abs(n.std() - 1) < 0.01
    k = rng.integers(torch.tensor([3, 1000]), 50_000)
    assert set(k[0].tolist()) == {0, 1, 2} and k[1].max() < 1000 and k[1].min() >= 0


def test_checkpointed_counter_continues_the_stream():
    a, b = SeedRNG([5]), SeedRNG([5])
    a.uniform(3)
    b.load_state_dict(a.state_dict())
    assert torch.equal(a.normal(4), b.normal(4))


def test_uniform_draws_equal_successive_uniform_calls_and_leave_the_counter_where_they_would():
    one_call, many_calls = SeedRNG([4, 9]), SeedRNG([4, 9])
    rows = one_call.uniform_draws(3, 5, low=-2.0, high=3.0)
    assert rows.shape == (2, 3, 5)
    for d in range(3):
        assert torch.equal(rows[:, d], many_calls.uniform(5, low=-2.0, high=3.0))
    assert one_call.counter == many_calls.counter
    assert torch.equal(one_call.uniform_draws(2, 7)[:, :, :4], torch.stack([many_calls.uniform(4) for _ in range(2)], 1))


def test_bits_are_the_splitmix_hash_of_key_counter_and_index_at_any_counter():
    """The folded salt (a cached base plus counter * golden) equals the hash's definition, including
    counters whose product with the golden ratio wraps around 2^64 many times."""
    rng = SeedRNG([2, 5, 8])
    for counter, draws, shape in ((0, 1, (3, 4)), (7, 2, (5,)), (2**40 + 3, 3, (2, 2)), (2**62 - 1, 1, (6,))):
        rng.counter = counter
        counters = torch.tensor([_signed(counter + d) for d in range(draws)], dtype=torch.int64)
        salt = splitmix64(counters[:, None] * _GOLDEN + torch.arange(math.prod(shape))[None, :])
        expected = splitmix64(rng._keys[:, None, None] ^ salt[None]).view(3, draws, *shape)
        assert torch.equal(rng._bits(shape, draws), expected)
        assert torch.equal(rng._bits(shape, draws), splitmix64(rng._keys[:, None, None] ^ splitmix64(
            torch.tensor([_signed(counter + draws + d) for d in range(draws)])[:, None] * _GOLDEN
            + torch.arange(math.prod(shape))[None, :])[None]).view(3, draws, *shape))  # the cached base, reused
