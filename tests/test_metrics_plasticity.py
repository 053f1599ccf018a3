"""Plasticity metrics against hand-computed values (metrics-plasticity.md, "Unit tests")."""
import math

import pytest
import torch

from plasticbench.baselines.batched import BatchedMLP
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.baselines.td3 import TD3, TD3Config
from plasticbench.benchmark.metrics.plasticity import (
    active_neuron_ratio, active_unit_fraction, dormant_masks, dormant_ratio, effective_rank, feature_norm,
    grad_norm, hidden_activations, neuron_scores, plasticity_snapshot, probe_batch, srank, weight_rms)
from plasticbench.methods.ft1 import FT1


def test_neuron_scores_and_dormant_ratio_on_a_hand_built_layer():
    h = torch.tensor([[[0.0, 2.0, 4.0], [0.0, 2.0, 4.0]]])  # [S=1, B=2, H=3]
    torch.testing.assert_close(neuron_scores(h), torch.tensor([[0.0, 1.0, 2.0]]))
    assert dormant_ratio([h], 0.0).item() == pytest.approx(1 / 3)
    assert dormant_ratio([h], 0.1).item() == pytest.approx(1 / 3)
    assert dormant_ratio([h], 1.0).item() == pytest.approx(2 / 3)  # <= is inclusive
    assert dormant_masks([h], 0.1)[0].tolist() == [[True, False, False]]


def test_dormant_ratio_pools_neurons_not_layers():
    layer_a = torch.tensor([[[0.0, 1.0, 1.0]]])
    layer_b = torch.ones(1, 1, 5)
    assert dormant_ratio([layer_a, layer_b], 0.0).item() == pytest.approx(1 / 8)


def test_seeds_are_scored_separately():
    h = torch.tensor([[[0.0, 2.0, 4.0]], [[1.0, 1.0, 1.0]]])  # seed 1 has no dormant neuron
    assert dormant_ratio([h], 0.0).tolist() == pytest.approx([1 / 3, 0.0])


def test_active_neuron_ratio_differs_from_fau():
    h = torch.tensor([[[0.0, 1.0], [0.0, 0.0], [0.0, 1.0], [0.0, 0.0]]])
    assert active_neuron_ratio([h]).item() == pytest.approx(0.5)
    assert active_unit_fraction([h]).item() == pytest.approx(0.25)


def test_srank_on_known_singular_values():
    phi = torch.zeros(2, 10, 3)
    phi[0, :3, :3] = torch.diag(torch.tensor([100.0, 1.0, 0.001]))
    phi[1, :3, :3] = torch.diag(torch.tensor([98.0, 1.5, 0.5]))
    assert srank(phi).tolist() == [1.0, 2.0]


def test_srank_of_a_low_rank_matrix_is_its_rank():
    g = torch.Generator().manual_seed(0)
    low = torch.randn(1, 40, 2, generator=g) @ torch.randn(1, 2, 8, generator=g)  # rank 2, equal-ish sigmas
    full = torch.randn(1, 40, 8, generator=g)
    assert srank(torch.cat([low, torch.zeros(1, 40, 8)]), delta=0.0001).tolist() == [2.0, 0.0]
    assert srank(full, delta=0.0001).item() == 8.0


def test_effective_rank_of_identity_and_rank_one():
    assert effective_rank(torch.eye(4)[None]).item() == pytest.approx(4.0, abs=1e-5)
    rank_one = torch.ones(1, 6, 1) @ torch.arange(1.0, 5.0)[None, None]
    assert effective_rank(rank_one).item() == pytest.approx(1.0, abs=1e-5)


def test_feature_norm_and_weight_rms():
    phi = torch.tensor([[[3.0, 4.0], [0.0, 0.0]]])
    assert feature_norm(phi).item() == pytest.approx(2.5)
    params = [torch.tensor([[1.0, 1.0], [2.0, 2.0]]), torch.tensor([[1.0], [2.0]])]
    assert weight_rms(params).tolist() == pytest.approx([1.0, 2.0])


def test_grad_norm_equals_clip_grad_norm_per_seed():
    net = BatchedMLP(2, (3, 4, 1), "relu", SeedRNG([0, 1]))
    net(torch.randn(2, 5, 3)).pow(2).sum().backward()
    per_seed = grad_norm(net.parameters())
    for s in range(2):
        grads = [p.grad[s].clone() for p in net.parameters()]
        expected = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
        assert per_seed[s].item() == pytest.approx(expected.item(), rel=1e-6)
    assert math.isnan(grad_norm([torch.zeros(2, 1)]).item())


def test_hidden_activations_are_post_activation_and_exclude_the_output_layer():
    net = BatchedMLP(1, (3, 5, 4, 2), "relu", SeedRNG([0]))
    x = torch.randn(1, 7, 3)
    hidden = hidden_activations(net, x)
    assert [h.shape[-1] for h in hidden] == [5, 4]
    assert all((h >= 0).all() for h in hidden)
    torch.testing.assert_close(hidden[-1], net.features(x))


def test_snapshot_is_per_seed_and_does_not_move_the_learner_rng():
    def learner(seeds):
        agent = TD3(TD3Config(hidden=(8, 8), batch_size=4), 3, 2, seeds, FT1())
        for t in range(12):
            rows = [torch.Generator().manual_seed(100 * s + t) for s in seeds]
            draw = lambda n: torch.stack([torch.randn(n, generator=g) for g in rows])
            done = torch.zeros(len(seeds), dtype=torch.bool)
            agent.observe(draw(3), draw(2).tanh(), draw(1)[:, 0], draw(3), done, done)
        agent.update()
        return agent

    both, alone = learner([0, 1]), learner([1])
    counter = both.rng.counter
    snap = plasticity_snapshot(both, probe_batch(both, draw=3))
    single = plasticity_snapshot(alone, probe_batch(alone, draw=3))
    assert both.rng.counter == counter
    assert "dormant_ratio_tau0.1" in snap and "critic_srank" in snap and "actor_grad_norm" in snap
    for key, values in snap.items():
        assert len(values) == 2
        assert values[1] == pytest.approx(single[key][0], rel=1e-5, abs=1e-6), key


@pytest.mark.parametrize("poison", ["probe", "weights"])
def test_non_finite_input_gives_nan_for_that_seed_only(poison):
    """A diverged seed's probe or weights may hold inf/NaN: its metrics are NaN, the others unchanged
    (svdvals would refuse the whole batch)."""
    agent = TD3(TD3Config(hidden=(8, 8), batch_size=4), 3, 2, [0, 1], FT1())
    for t in range(12):
        obs = torch.randn(2, 3, generator=torch.Generator().manual_seed(t))
        agent.observe(obs, obs[:, :2].tanh(), obs[:, 0], obs, torch.zeros(2, dtype=torch.bool), torch.zeros(2, dtype=torch.bool))
    agent.update()
    probe = probe_batch(agent, draw=0)
    clean = plasticity_snapshot(agent, probe)
    if poison == "probe":
        probe.obs[1, 0, 0] = float("nan")
    else:
        with torch.no_grad():
            agent.networks["critic"].q1.layers[0].weight[1, 0, 0] = float("inf")
    snap = plasticity_snapshot(agent, probe)
    for key, values in snap.items():
        assert values[0] == clean[key][0] or (math.isnan(values[0]) and math.isnan(clean[key][0])), key
        if "grad_norm" not in key and (poison == "probe" or not key.startswith("actor_")):
            assert math.isnan(values[1]), key
