"""Seed-batched convolutions and the Nature CNN: S networks in one call equal S separate ones."""
import copy

import torch
import torch.nn.functional as F

from plasticbench.baselines.batched_conv import BatchedConv2d, xavier_bound
from plasticbench.baselines.nature_cnn import ConvQNetwork, flat_features
from plasticbench.baselines.seed_rng import SeedRNG

SMALL = dict(obs_shape=(4, 36, 36), channels=(8, 16, 16), kernels=(8, 4, 3), strides=(4, 2, 1), hidden=(32,), num_actions=5)


def small_net(seeds, heads=1):
    return ConvQNetwork(len(seeds), rng=SeedRNG(seeds), heads=heads, **SMALL)


def one_seed_copy(net: torch.nn.Module, index: int) -> torch.nn.Module:
    """A one-seed network holding seed `index`'s weights of `net`, bit for bit."""
    single = copy.deepcopy(net)
    with torch.no_grad():
        for p in single.parameters():
            p.set_(p[index: index + 1].clone())
    return single


def test_batched_conv_is_one_conv2d_per_seed():
    conv = BatchedConv2d(3, 4, 6, 8, 4, SeedRNG([0, 1, 2]))
    x = torch.randn(3, 5, 4, 36, 36)
    y = conv(x)
    assert y.shape == (3, 5, 6, 8, 8)
    for s in range(3):
        torch.testing.assert_close(y[s], F.conv2d(x[s], conv.weight[s], conv.bias[s], stride=4))
    assert conv.weight.abs().max() <= xavier_bound(4 * 64, 6 * 64) and (conv.bias == 0).all()


def test_batched_cnn_equals_s_separate_cnns_with_the_same_weights_bit_for_bit():
    """Forward and every parameter's gradient of seed s at S = 4 equal those of seed s alone (one thread)."""
    net = small_net([0, 1, 2, 3])
    obs = torch.randint(0, 256, (4, 7, *SMALL["obs_shape"]), dtype=torch.uint8)
    q = net(obs)
    weights = torch.randn_like(q)
    (q * weights).sum().backward()
    for s in (0, 2, 3):
        single = one_seed_copy(net, s)
        for p in single.parameters():
            p.grad = None
        q_single = single(obs[s: s + 1])
        (q_single * weights[s: s + 1]).sum().backward()
        assert torch.equal(q_single[0], q[s])
        for (name, p), p_single in zip(net.named_parameters(), single.parameters()):
            assert torch.equal(p.grad[s], p_single.grad[0]), name


def test_init_of_a_seed_does_not_depend_on_the_others():
    alone, among = small_net([9]), small_net([1, 9, 4])
    for a, b in zip(alone.parameters(), among.parameters()):
        assert torch.equal(a[0], b[1])


def test_gradients_never_cross_seeds():
    net = small_net([0, 1])
    net(torch.randint(0, 256, (2, 3, *SMALL["obs_shape"]), dtype=torch.uint8))[0].sum().backward()
    for name, p in net.named_parameters():
        assert p.grad[1].abs().sum() == 0, name


def test_nature_cnn_shapes_and_heads():
    """84x84 Nature CNN: 7x7x64 = 3,136 flattened features; a head reads only its own output columns."""
    assert flat_features((4, 84, 84), (32, 64, 64), (8, 4, 3), (4, 2, 1)) == 3136
    net = small_net([0], heads=3)
    obs = torch.randint(0, 256, (1, 2, *SMALL["obs_shape"]), dtype=torch.uint8)
    full = net.mlp.layers[-1](net.features(obs))
    torch.testing.assert_close(net(obs, head=2), full[..., 10:15])


def test_every_hidden_layer_passes_through_the_shared_activation():
    """The plasticity hook sees 3 conv outputs (per channel) and the dense hidden layer, not the output."""
    net = small_net([0, 1])
    seen = []
    handle = net.activation.register_forward_hook(lambda m, a, out: seen.append(tuple(out.shape)))
    net(torch.zeros(2, 3, *SMALL["obs_shape"], dtype=torch.uint8))
    handle.remove()
    assert seen == [(2, 3, 8, 8, 8), (2, 3, 16, 3, 3), (2, 3, 16, 1, 1), (2, 3, 32)]
