"""LayerNorm: per-sample, per-seed normalization in every hidden layer; seeds stay independent."""
import pytest
import torch

from plasticbench.baselines.batched import BatchedMLP
from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.baselines.td3 import TD3, TD3Config
from plasticbench.benchmark.metrics.plasticity import hidden_activations
from plasticbench.methods.layernorm import LayerNorm, LayerNormMLP
from tests.seeds import assert_seed_matches
from tests.transitions import fill

OBS, ACT = 4, 2


def test_hidden_pre_activations_are_normalized_per_sample():
    net = LayerNormMLP(2, (3, 6, 5, 1), "relu", SeedRNG([0, 1]))
    x = 10.0 * torch.randn(2, 7, 3) + 4.0
    h = net.layers[0](x)
    z = net.norms[0](h)
    torch.testing.assert_close(z.mean(-1), torch.zeros(2, 7), atol=1e-5, rtol=0)
    torch.testing.assert_close(z.var(-1, unbiased=False), torch.ones(2, 7), atol=1e-3, rtol=0)
    assert [a.shape[-1] for a in hidden_activations(net, x)] == [6, 5]  # measured after the activation


def test_changing_one_seeds_input_leaves_the_other_seeds_output_unchanged():
    net = LayerNormMLP(2, (3, 6, 5, 1), "relu", SeedRNG([0, 1]))
    with torch.no_grad():
        for norm in net.norms:  # distinct per-seed gains, so a shared normalizer would show
            norm.weight.copy_(torch.rand_like(norm.weight) + 0.5)
    x = torch.randn(2, 7, 3)
    y = x.clone()
    y[1] = 1000.0 * torch.randn(7, 3)
    out_x, out_y = net(x), net(y)
    assert torch.equal(out_x[0], out_y[0])
    assert not torch.allclose(out_x[1], out_y[1])


def test_linear_init_is_the_baseline_init():
    plain, normed = BatchedMLP(2, (3, 6, 1), "relu", SeedRNG([0, 1])), LayerNormMLP(2, (3, 6, 1), "relu", SeedRNG([0, 1]))
    for p, q in zip(plain.layers.parameters(), normed.layers.parameters()):
        assert torch.equal(p, q)


def test_method_builds_layernorm_actor_critic_and_targets():
    learner = TD3(TD3Config(hidden=(8, 8), batch_size=8), OBS, ACT, [0], LayerNorm())
    nets = learner.networks
    assert isinstance(nets["actor"], LayerNormMLP) and isinstance(nets["actor_target"], LayerNormMLP)
    assert all(isinstance(q, LayerNormMLP) for q in (nets["critic"].q1, nets["critic"].q2, nets["critic_target"].q1))
    only_critic = TD3(TD3Config(hidden=(8, 8)), OBS, ACT, [0], LayerNorm(LayerNorm.Config(roles=("critic",))))
    assert type(only_critic.networks["actor"]) is BatchedMLP


@pytest.mark.parametrize("cls,config", [(SAC, SACConfig(hidden=(16, 16), batch_size=27)),
                                        (TD3, TD3Config(hidden=(16, 16), batch_size=27))])
def test_two_seeds_in_one_learner_equal_two_single_seed_learners(cls, config):
    def run(seeds):
        learner = cls(config, OBS, ACT, seeds, LayerNorm())
        fill(learner, seeds)
        for _ in range(6):
            learner.update()
        return learner

    batched = run([0, 1])
    for i, seed in enumerate([0, 1]):
        single = run([seed])
        assert_seed_matches(batched, i, single)
