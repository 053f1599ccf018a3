"""ReDo, Reset and LayerNorm on DQN's Nature CNN: a dead conv channel recycled exactly (redo.md §7
tests 2, 3, 5), the conv -> dense flatten, conv dormancy in the metrics, seeds independent, Reset of
the Q-network, LayerNorm in the dense layers only, PI injecting the Q head."""
from types import SimpleNamespace

import pytest
import torch

from plasticbench.baselines.batched_conv import xavier_bound
from plasticbench.baselines.nature_cnn import ConvQNetwork
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.benchmark.metrics.plasticity import dormant_masks, hidden_activations, neuron_scores
from plasticbench.methods.layernorm import LayerNorm, LayerNormMLP
from plasticbench.methods.pi import PlasticityInjection, injectable_modules
from plasticbench.methods.redo import ReDo, recycle_dormant
from plasticbench.methods.reset import Reset
from tests.baselines.test_dqn import make, play
from tests.seeds import assert_matches_single_seed_runs


def net_with_dead_channel(layer: int, channel: int, side: int = 44):
    """S = 2 Nature-style CNN on [4, side, side]; every unit active (non-negative weights, positive
    biases) except `channel` of conv `layer` in seed 0. Adam has taken one step, so every moment is non-zero."""
    net = ConvQNetwork(2, (4, side, side), (4, 6, 5), (8, 4, 3), (4, 2, 1), (8,), 3, SeedRNG([0, 1]))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randint(0, 256, (2, 6, 4, side, side), dtype=torch.uint8)
    net(x).pow(2).sum().backward()
    optimizer.step()
    with torch.no_grad():
        for layer_ in net.layer_sequence():
            layer_.weight.abs_()
            layer_.bias.fill_(1.0)
        net.convs[layer].bias[0, channel] = -1e6
    return net, optimizer, x


@pytest.mark.parametrize("layer,channel", [(0, 2), (2, 1)])  # conv -> conv, and the last conv -> the dense layer
def test_a_dead_conv_channel_is_recycled_and_nothing_else_changes(layer, channel):
    net, optimizer, x = net_with_dead_channel(layer, channel)
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    moments = {n: optimizer.state[p]["exp_avg"].clone() for n, p in net.named_parameters()}
    out_before = net(x).detach()
    counts = recycle_dormant(net, x, tau=0.0, rng=SeedRNG([0, 1], stream=5), optimizer=optimizer)
    assert counts.tolist() == [1, 0]

    conv = net.convs[layer]
    nxt = net.convs[layer + 1].weight if layer + 1 < len(net.convs) else net.mlp.layers[0].weight
    area = conv.kernel ** 2
    assert not torch.equal(conv.weight[0, channel], before[f"convs.{layer}.weight"][0, channel])  # a fresh filter
    assert conv.weight[0, channel].abs().max() <= xavier_bound(conv.in_channels * area, conv.out_channels * area)
    assert conv.bias[0, channel] == 0
    if layer + 1 < len(net.convs):
        touched_out = (0, slice(None), channel)  # input channel `channel` of the next conv
    else:
        hw = nxt.shape[1] // conv.out_channels  # 2 x 2 positions after the flatten, channel-major
        assert hw == 4
        touched_out = (0, slice(channel * hw, (channel + 1) * hw))
    assert (nxt[touched_out] == 0).all()
    next_name = f"convs.{layer + 1}.weight" if layer + 1 < len(net.convs) else "mlp.layers.0.weight"
    changed = {f"convs.{layer}.weight": (0, channel), f"convs.{layer}.bias": (0, channel), next_name: touched_out}
    for name, p in net.named_parameters():
        expected = before[name].clone()
        if name in changed:
            expected[changed[name]] = p.detach()[changed[name]]
        assert torch.equal(p.detach(), expected), name
    torch.testing.assert_close(net(x), out_before)  # the channel was silent and its outgoing weights are zero now
    for name, p in net.named_parameters():
        state = optimizer.state[p]["exp_avg"]
        if name in changed and "weight" in name:
            assert (state[changed[name]] == 0).all() and (moments[name][changed[name]] != 0).any(), name
        else:
            assert torch.equal(state, moments[name]), name  # biases' moments kept, as the reference code


def test_conv_dormancy_is_per_channel_over_batch_and_space():
    """A channel's score is mean |h| over batch and positions / the layer's mean (metrics-plasticity.md §0)."""
    h = torch.zeros(1, 2, 3, 2, 2)
    h[0, :, 0] = 1.0  # channel 0: 1 everywhere
    h[0, 0, 1, 0, 0] = 4.0  # channel 1: one position of one sample -> mean 0.5
    torch.testing.assert_close(neuron_scores(h), torch.tensor([[2.0, 1.0, 0.0]]))
    net, _, x = net_with_dead_channel(1, 3)
    masks = dormant_masks(hidden_activations(net, x), 0.0)
    assert [m.shape[1] for m in masks] == [4, 6, 5, 8]
    assert masks[1][0].nonzero().flatten().tolist() == [3] and not masks[1][1].any()


def test_redo_on_dqn_recycles_and_keeps_seeds_independent():
    """ReDo every 2 gradient steps with tau 0.1 on a two-task DQN run: it acts (events counted), and
    seeds 0 and 3 hold exactly what they would alone (per-seed masks, draws for every seed)."""
    def train_task(learner, method, task, seeds):
        learner.start_task(task)
        play(learner, seeds, 40)

    make_redo = lambda seeds: make(seeds, ReDo(ReDo.Config(period=2, tau=0.1, batch_size=16)))
    (learner, method), _ = assert_matches_single_seed_runs(make_redo, train_task, seeds=(0, 3), tasks=2)
    counts = learner.events.counts["recycle"]
    assert sum(map(sum, counts)) > 0 and "critic" in method.recycled


def test_reset_on_dqn_redraws_the_q_network_and_its_target():
    learner, method = make([0, 1], Reset(Reset.Config(period=10)), budgets=(40,), masks=None)
    fresh = ConvQNetwork(2, learner.obs_shape, learner.config.conv_channels, (8, 4, 3), (4, 2, 1), learner.config.hidden,
                         5, SeedRNG([0, 1], stream=1))
    play(learner, [0, 1], 10, first_update=0)
    assert method.resets == 0
    counter = learner.rng.counter
    rng = SeedRNG([0, 1], stream=1)
    rng.counter = counter
    fresh.reset_parameters(rng)
    learner.act(learner.buffer.pending, explore=True)  # the reset fires before the first step after step 10
    assert method.resets == 1 and learner.events.counts["reset"] == [[1, 1]]
    for p, q, t in zip(learner.networks["critic"].parameters(), fresh.parameters(), learner.networks["critic_target"].parameters()):
        assert torch.equal(p, q) and torch.equal(t, p)
    assert not learner.optimizers["critic"].state  # Adam restarts for the reset parameters


def test_layernorm_on_dqn_normalizes_the_dense_layers_only_and_keeps_seeds_independent():
    """Same draws as plain DQN (conv trunk, Xavier dense layers, exact Q head) plus a per-seed LayerNorm
    before each dense hidden activation; seeds 0 and 3 hold exactly what they would alone."""
    def train_task(learner, method, task, seeds):
        learner.start_task(task)
        play(learner, seeds, 30)

    plain = make([0, 3])[0].networks["critic"]
    normed = make([0, 3], LayerNorm())[0].networks["critic"]
    assert isinstance(normed.mlp, LayerNormMLP) and len(normed.mlp.norms) == len(normed.mlp.layers) - 1
    kept = dict(plain.named_parameters())
    for name, p in normed.named_parameters():
        assert "norms" in name or torch.equal(p, kept.pop(name)), name
    assert not kept
    assert_matches_single_seed_runs(lambda seeds: make(seeds, LayerNorm()), train_task, seeds=(0, 3), tasks=1)


def test_pi_on_dqn_injects_the_q_head_with_the_output_unchanged_and_seeds_independent():
    """At the task switch the Q head (and its target's) gets a fresh head minus its frozen copy: Q and
    Q_target are unchanged at that instant, the model grows by two heads, only the new head and the
    encoder (conv trunk and dense hidden layers) train on; seeds 0 and 3 hold exactly what they would alone."""
    def train_task(learner, method, task, seeds):
        learner.start_task(task)
        method.on_task_start(learner, SimpleNamespace(index=task))
        play(learner, seeds, 30)

    learner, method = make([0, 3], PlasticityInjection())
    train_task(learner, method, 0, [0, 3])
    probe = learner.buffer.sample(8, learner.rng).obs
    learner.start_task(1)  # copies the critic into its target
    before = {role: learner.networks[role](probe) for role in ("critic", "critic_target")}
    size = method.model_size(learner)
    method.on_task_start(learner, SimpleNamespace(index=1))
    for role, q in before.items():
        torch.testing.assert_close(learner.networks[role](probe), q, rtol=0, atol=1e-6)
    (mlp,) = injectable_modules(learner.networks["critic"])
    head = mlp.layers[-1].weight.numel() // 2 + mlp.layers[-1].bias.numel() // 2
    assert method.model_size(learner) == size + 2 * head and len(method.injected_at) == 1
    trainable = {n for n, p in learner.networks["critic"].named_parameters() if p.requires_grad}
    assert "mlp.injections.0.trainable.0.weight" in trainable and "convs.0.weight" in trainable
    assert "mlp.layers.1.weight" not in trainable and "mlp.injections.0.frozen.0.weight" not in trainable
    assert_matches_single_seed_runs(lambda seeds: make(seeds, PlasticityInjection()), train_task, seeds=(0, 3), tasks=2)
