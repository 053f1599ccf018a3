"""DAPD (dapd.md §7): SNIP scores, global top-k per network and seed, the K-average, masks that truly
freeze gradients, per-seed freezing, target masks, seed independence, offline single-shot masks."""
import pytest
import torch

from plasticbench.baselines.batched import BatchedMLP
from plasticbench.baselines.iql import IQL, IQLConfig
from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.baselines.td3 import TD3, TD3Config
from plasticbench.methods.dapd import DAPD, MaskedLinear, masked_flops, masked_layers, snip_scores, top_k_mask
from tests.baselines.test_offline_learners import dataset
from tests.seeds import assert_seed_matches
from tests.transitions import fill

OBS, ACT = 5, 2
ONLINE = [(SAC, SACConfig(hidden=(16, 16), batch_size=8)), (TD3, TD3Config(hidden=(16, 16), batch_size=8))]


def dapd(**overrides):
    return DAPD(DAPD.Config(**{"keep_ratio": 0.2, "score_batch": 8, "window": 20, **overrides}))


def masks(learner, role):
    return [layer.mask.clone() for layer in masked_layers(learner.networks[role])]


def test_snip_score_is_the_mask_gradient_and_theta_times_dl_dtheta():
    mlp = BatchedMLP(2, (3, 4, 2), "relu", SeedRNG([0, 1]), linear=MaskedLinear)
    for layer in mlp.layers:
        layer.mask.requires_grad_(True)  # c = 1: dL/dc = theta * dL/dtheta
    mlp(torch.randn(2, 6, 3)).pow(2).sum().backward()
    via_mask = torch.cat([layer.mask.grad.abs().flatten(1) for layer in mlp.layers], dim=1)
    expected = via_mask / via_mask.sum(dim=1, keepdim=True)
    torch.testing.assert_close(snip_scores(mlp.layers), expected, atol=1e-7, rtol=0)
    assert torch.allclose(snip_scores(mlp.layers).sum(dim=1), torch.ones(2))


def test_global_top_k_keeps_exactly_k_per_seed_across_layers():
    # three "layers" of 10, 20, 30 weights; seed 0 puts its largest scores all in the last layer
    scores = torch.stack([torch.arange(60.0), torch.arange(60.0).flip(0)]) + 1
    mask = top_k_mask(scores, keep_ratio=0.05)  # k = floor(0.05 * 60) = 3
    assert mask.sum(dim=1).tolist() == [3, 3]
    assert mask[0, :30].sum() == 0 and mask[0, 57:].all()  # layers 1 and 2 of seed 0 keep nothing
    assert mask[1, :3].all()


def test_a_zero_kth_score_keeps_the_previous_mask_of_that_seed_only():
    previous = torch.tensor([[True, False, False, False], [False, True, False, False]])
    scores = torch.tensor([[0.0, 0.0, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4]])
    mask = top_k_mask(scores, 0.25, previous)
    assert mask.tolist() == [[True, False, False, False], [False, False, False, True]]


def fresh(cls, config, seeds, **overrides):
    method = dapd(**overrides)
    learner = cls(config, OBS, ACT, seeds, method)
    fill(learner, seeds)
    return learner, method


@pytest.mark.parametrize("cls,config", ONLINE)
def test_masked_weights_get_zero_gradient_and_stay_bit_identical(cls, config):
    learner, method = fresh(cls, config, [0, 1])
    learner.update()  # initial masks, then the first step
    before = {r: [l.weight.detach().clone() for l in masked_layers(learner.networks[r])] for r in ("actor", "critic")}
    for _ in range(4):
        learner.update()
    for role in ("actor", "critic"):
        for layer, old in zip(masked_layers(learner.networks[role]), before[role]):
            off = layer.mask == 0
            assert off.any() and torch.equal(layer.weight[off], old[off])
            assert layer.weight.grad is None or (layer.weight.grad[off] == 0).all()
        kept = torch.cat([m.flatten(1) for m in masks(learner, role)], 1).sum(1)
        total = sum(l.weight[0].numel() for l in masked_layers(learner.networks[role]))
        assert (kept >= int(0.2 * total)).all() and (kept <= int(0.2 * total) + 2).all()


@pytest.mark.parametrize("cls,config", ONLINE)
def test_targets_use_their_online_networks_masks(cls, config):
    learner, method = fresh(cls, config, [0])
    learner.update()
    for role, target in learner.target_roles.items():
        for a, b in zip(masked_layers(learner.networks[role]), masked_layers(learner.networks[target])):
            assert torch.equal(a.mask, b.mask) and (a.mask == 0).any()
    layer = masked_layers(learner.networks["critic_target"])[0]
    x = torch.randn(1, 3, layer.in_features)
    torch.testing.assert_close(layer(x), torch.baddbmm(layer.bias, x, layer.weight * layer.mask))


def test_moving_average_of_k_scores_decides_the_mask(monkeypatch):
    learner, method = fresh(SAC, SACConfig(hidden=(4,), batch_size=8), [0], moving_average=3, keep_ratio=0.1)
    n = sum(l.weight[0].numel() for l in masked_layers(learner.networks["actor"]))
    gen = torch.Generator().manual_seed(3)
    draws = [torch.rand(1, n, generator=gen) for _ in range(4)]
    feed = iter(draws)
    monkeypatch.setattr(DAPD, "scores", lambda self, ctx, batch: {"actor": next(feed)})
    method._start(learner)
    for _ in range(4):
        method.update_masks(learner, None, torch.ones(1, dtype=torch.bool))
    got = torch.cat([m.flatten(1) for m in masks(learner, "actor")], 1).bool()
    assert torch.equal(got, top_k_mask(torch.stack(draws[1:]).mean(0), 0.1))  # the last K = 3 only
    assert not torch.equal(got, top_k_mask(draws[-1], 0.1))
    assert method.mask_updates == [4]


def test_freeze_is_per_seed_and_continual_pruning_never_freezes(monkeypatch):
    for continual, expected in ((False, [2, 1]), (True, [2, 2])):
        learner, method = fresh(SAC, SACConfig(hidden=(8,), batch_size=8), [0, 1], freeze_return=8000.0,
                                continual_pruning=continual)
        learner.update()  # initial masks: one update per seed
        method.on_evaluation(learner, 0, [100.0, 9000.0])
        frozen_mask = masks(learner, "actor")
        method.on_episode_end(learner, torch.tensor([True, True]))
        assert method.mask_updates == expected
        if not continual:
            assert all(torch.equal(a[1], b[1]) for a, b in zip(frozen_mask, masks(learner, "actor")))
            assert method.frozen_at == [None, learner.env_steps]


def test_scoring_leaves_the_learner_exactly_as_it_was():
    learner, method = fresh(SAC, SACConfig(hidden=(8,), batch_size=8), [0, 1])
    learner.update()
    state = {r: {k: v.clone() for k, v in n.state_dict().items()} for r, n in learner.networks.items()}
    counter, updates = learner.rng.counter, learner.updates
    method.scores(learner, method.window_batch(learner))
    assert learner.rng.counter == counter and learner.updates == updates
    for role, net in learner.networks.items():
        assert all(torch.equal(v, state[role][k]) for k, v in net.state_dict().items())


@pytest.mark.parametrize("cls,config", ONLINE)
def test_s_seeds_with_dapd_equal_s_single_seed_runs(cls, config):
    def trained(seeds):
        learner, _ = fresh(cls, config, seeds)
        for step in range(6):
            learner.update()
            if step in (1, 3):
                learner.method.on_episode_end(learner, torch.ones(len(seeds), dtype=torch.bool))
        return learner

    batched = trained([0, 1, 2])
    for i, seed in enumerate([0, 1, 2]):
        single = trained([seed])
        assert_seed_matches(batched, i, single, roles=("actor", "critic"))
        for role in ("actor", "critic"):
            assert all(torch.equal(a[i], b[0]) for a, b in zip(masks(batched, role), masks(single, role)))


def test_offline_masks_are_single_shot_and_never_change():
    from plasticbench.envs.task import Task

    method = dapd()
    learner = IQL(IQLConfig(hidden=(16, 16), batch_size=8), OBS, ACT, [0, 1], method)
    learner.load_dataset(dataset(), 10)
    method.on_task_start(learner, Task("t", 0, None, {}))
    first = {r: masks(learner, r) for r in ("actor", "critic", "value")}
    assert method.frozen.all() and method.mask_updates == [1, 1]
    for _ in range(5):
        learner.update()
    assert all(torch.equal(a, b) for r in first for a, b in zip(first[r], masks(learner, r)))
    summary = method.summary(learner)
    assert set(summary["active_params"]) == {"actor", "critic", "value"}
    dense = summary["dense_flops_per_forward"]["actor"]
    assert all(f < dense for f in summary["flops_per_forward"]["actor"])


def test_masked_flops_by_hand():
    mlp = BatchedMLP(1, (3, 2, 1), "relu", SeedRNG([0]), linear=MaskedLinear)
    mlp.layers[0].mask[0, 0, 0] = 0.0  # 5 of 6 weights kept in layer 1, 2 of 2 in layer 2
    assert masked_flops(mlp.layers).tolist() == [2 * 5 + 2 + 2 * 2 + 1]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("in_features, out_features", [(256, 1), (5, 64)])
def test_masked_layer_gives_a_seed_the_same_bits_whatever_s(in_features, out_features, threads):
    """Seed 0 of a masked layer at S = 4 equals the same layer at S = 1, forward and weight gradient, at 1
    and 2 threads: the masked product goes through the same seed-exact path as every batched layer (a
    critic's single output and a narrow first layer are the shapes where a plain `baddbmm` differs; #17)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        results = []
        for num_seeds in (1, 4):
            layer = MaskedLinear(num_seeds, in_features, out_features, SeedRNG(list(range(num_seeds))))
            layer.mask.copy_((torch.arange(layer.mask.numel()).reshape(layer.mask.shape) % 3 != 0).float())
            x = torch.stack([torch.randn(256, in_features, generator=torch.Generator().manual_seed(s))
                             for s in range(num_seeds)])
            y = layer(x)
            y.square().sum().backward()
            results.append((y[0], layer.weight.grad[0]))
        assert torch.equal(results[0][0], results[1][0]) and torch.equal(results[0][1], results[1][1])
    finally:
        torch.set_num_threads(previous)
