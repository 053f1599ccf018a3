import pytest
import torch

from plasticbench.baselines.batched import BatchedLinear, BatchedMLP, params_per_seed
from plasticbench.baselines.seed_rng import SeedRNG


def test_batched_linear_is_one_linear_layer_per_seed():
    layer = BatchedLinear(3, 4, 5, SeedRNG([0, 1, 2]))
    x = torch.randn(3, 7, 4)
    y = layer(x)
    for s in range(3):
        torch.testing.assert_close(y[s], x[s] @ layer.weight[s] + layer.bias[s])
    bound = 1 / 4**0.5
    assert layer.weight.abs().max() <= bound and layer.bias.abs().max() <= bound


def test_init_of_a_seed_does_not_depend_on_the_others():
    alone = BatchedMLP(1, (4, 8, 2), "relu", SeedRNG([9]))
    among = BatchedMLP(3, (4, 8, 2), "relu", SeedRNG([1, 9, 4]))
    for a, b in zip(alone.parameters(), among.parameters()):
        assert torch.equal(a[0], b[1])


def test_gradients_never_cross_seeds():
    mlp = BatchedMLP(2, (3, 8, 1), "leaky_relu", SeedRNG([0, 1]))
    mlp(torch.randn(2, 5, 3))[0].sum().backward()
    for p in mlp.parameters():
        assert p.grad[1].abs().sum() == 0 and p.grad[0].abs().sum() > 0


def test_a_head_reads_only_its_own_output_columns():
    mlp = BatchedMLP(1, (3, 8, 2), "relu", SeedRNG([0]), heads=3)
    x = torch.randn(1, 4, 3)
    full = mlp.layers[-1](mlp.features(x))
    torch.testing.assert_close(mlp(x, head=2), full[..., 4:6])
    assert params_per_seed(mlp) == 3 * 8 + 8 + 8 * 6 + 6


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("in_features, out_features", [(256, 1), (5, 64), (11, 6)])
def test_a_seeds_layer_bits_do_not_depend_on_s_at_one_or_two_threads(in_features, out_features, threads):
    """Seed 0 at S = 4 equals S = 1, forward and weight gradient (issue #17): the critic's single output and a
    first layer reading a narrow observation are the shapes where a plain `baddbmm` takes another kernel."""
    torch.set_num_threads(threads)  # the autouse fixture puts the thread count back
    results = []
    for num_seeds in (1, 4):
        layer = BatchedLinear(num_seeds, in_features, out_features, SeedRNG(list(range(num_seeds))))
        x = torch.stack([torch.randn(256, in_features, generator=torch.Generator().manual_seed(s)) for s in range(num_seeds)])
        y = layer(x)
        y.square().sum().backward()
        results.append((y[0], layer.weight.grad[0]))
    assert torch.equal(results[0][0], results[1][0]) and torch.equal(results[0][1], results[1][1])
