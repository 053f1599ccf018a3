"""ReDo (redo.md §7): one dormant neuron is recycled exactly; schedule; seeds stay independent."""
import math

from types import SimpleNamespace

import pytest
import torch

from plasticbench.baselines.batched import BatchedMLP
from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.baselines.td3 import TD3, TD3Config
from plasticbench.methods.redo import ReDo, recycle_dormant
from tests.seeds import assert_seed_matches
from tests.transitions import fill

OBS, ACT = 4, 2


def mlp_with_one_dead_neuron() -> tuple[BatchedMLP, torch.optim.Adam, torch.Tensor]:
    """S=2, sizes (3, 4, 4, 2); every hidden neuron active except neuron 1 of layer 0 in seed 0."""
    net = BatchedMLP(2, (3, 4, 4, 2), "relu", SeedRNG([0, 1]))
    with torch.no_grad():
        net.layers[0].bias.fill_(10.0)
        net.layers[1].bias.fill_(100.0)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.rand(2, 16, 3)
    net(x).pow(2).sum().backward()
    optimizer.step()  # non-zero Adam moments everywhere, the soon-dead neuron's weights included
    with torch.no_grad():
        net.layers[0].bias[0, 0, 1] = -1e3
    return net, optimizer, x


def test_dead_neuron_is_recycled_and_nothing_else_changes():
    net, optimizer, x = mlp_with_one_dead_neuron()
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    moments = {n: {k: optimizer.state[p][k].clone() for k in ("exp_avg", "exp_avg_sq")} for n, p in net.named_parameters()}
    out_before = net(x).detach()
    counts = recycle_dormant(net, x, tau=0.0, rng=SeedRNG([0, 1], stream=5), optimizer=optimizer)
    assert counts.tolist() == [1, 0]

    w0, b0, w1 = net.layers[0].weight, net.layers[0].bias, net.layers[1].weight
    assert not torch.equal(w0[0, :, 1], before["layers.0.weight"][0, :, 1])  # incoming re-drawn
    assert (w0[0, :, 1].abs() <= 1 / math.sqrt(3)).all()  # within the init bounds
    assert b0[0, 0, 1] == 0.0 and (w1[0, 1, :] == 0).all()  # bias and outgoing zeroed
    changed = {"layers.0.weight": (0, slice(None), 1), "layers.0.bias": (0, 0, 1), "layers.1.weight": (0, 1, slice(None))}
    for name, p in net.named_parameters():
        expected = before[name].clone()
        if name in changed:
            expected[changed[name]] = p.detach()[changed[name]]
        assert torch.equal(p.detach(), expected), name
    torch.testing.assert_close(net(x), out_before)  # the function is unchanged at that instant

    state = optimizer.state
    assert all((moments[n][k][changed[n]] != 0).all() for n in changed if "weight" in n for k in ("exp_avg", "exp_avg_sq"))
    for key in ("exp_avg", "exp_avg_sq"):
        assert (state[w0][key][0, :, 1] == 0).all() and (state[w1][key][0, 1, :] == 0).all()
        for name, p in net.named_parameters():
            expected = moments[name][key].clone()
            if name in ("layers.0.weight", "layers.1.weight"):
                expected[changed[name]] = 0.0
            assert torch.equal(state[p][key], expected), (name, key)  # bias moments are kept (redo.md §2)


def test_output_layer_is_never_scored():
    net, optimizer, x = mlp_with_one_dead_neuron()
    with torch.no_grad():
        net.layers[2].weight.zero_()
        net.layers[2].bias.zero_()  # output units are all exactly 0
    counts = recycle_dormant(net, x, tau=0.0, rng=SeedRNG([0, 1], stream=5), optimizer=optimizer)
    assert counts.tolist() == [1, 0]
    assert (net.layers[2].bias == 0).all()


def test_schedule_counts_gradient_steps():
    method = ReDo(ReDo.Config(period=1000, start=0, end=2500))
    period = method.period(SimpleNamespace(task_budget=10))  # the absolute period wins over the fraction
    assert [t for t in range(0, 4001, 500) if method.due(t, period)] == [1000, 2000]
    assert ReDo().period(SimpleNamespace(task_budget=50_000)) == 50
    with pytest.raises(ValueError):
        ReDo(ReDo.Config(period=0))


def train(cls, config, seeds, updates=6):
    method = ReDo(ReDo.Config(period=2, tau=0.5, batch_size=8, recycle_targets=True))
    learner = cls(config, OBS, ACT, seeds, method)
    fill(learner, seeds)
    for _ in range(updates):
        learner.update()
    return learner, method


@pytest.mark.parametrize("cls,config", [(SAC, SACConfig(hidden=(16, 16), batch_size=27)),
                                        (TD3, TD3Config(hidden=(16, 16), batch_size=27))])
def test_two_seeds_in_one_learner_equal_two_single_seed_learners(cls, config):
    batched, method = train(cls, config, [0, 1])
    assert sum(sum(v) for v in method.recycled.values()) > 0  # recycling really happened
    for i, seed in enumerate([0, 1]):
        single, _ = train(cls, config, [seed])
        assert_seed_matches(batched, i, single)
