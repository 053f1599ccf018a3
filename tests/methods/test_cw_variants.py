"""Continual World's own L2, EWC and PackNet (continual-baselines.md §7.2, §8.2, §10.2) on tiny multi-head learners."""
from dataclasses import dataclass

import pytest
import torch

from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.methods.ewc import EWC, fisher_diagonal
from plasticbench.methods.ft_l2 import FTL2
from plasticbench.methods.task_heads import trunk_mask
from tests.transitions import fill

OBS, ACT, TASKS = 3, 2, 3
CONFIG = SACConfig(hidden=(8, 8), batch_size=4, multi_head=True)


@dataclass
class FakeTask:
    index: int
    name: str = "task"


def multi_head(method, seeds=(0, 1)) -> SAC:
    return SAC(CONFIG, OBS, ACT, list(seeds), method, num_tasks=TASKS)


def test_trunk_mask_leaves_out_only_the_multi_head_layer():
    learner = multi_head(FTL2())
    assert trunk_mask(learner.networks["actor"]) == [True, True, True, True, False, False]
    single = SAC(SACConfig(hidden=(8, 8)), OBS, ACT, [0], FTL2(), num_tasks=TASKS)
    assert all(trunk_mask(single.networks["actor"]))


def test_cw_l2_weighs_the_trunk_by_tasks_done_and_ignores_heads():
    method = FTL2(FTL2.Config(strength=10.0, variant="cw"))
    learner = multi_head(method)
    actor = learner.networks["actor"]
    for k in range(2):
        method.on_task_end(learner, FakeTask(k))
    with torch.no_grad():
        actor.layers[-1].weight.add_(3.0)  # heads: free
        actor.layers[0].bias[1] += 0.5  # seed 1's trunk moves
    expected = 2 * 10.0 * 0.25 * actor.layers[0].bias.shape[-1]  # k = 2 tasks done
    torch.testing.assert_close(method.loss(learner, "actor", None), torch.tensor(expected))


def test_salina_l2_keeps_one_anchor_with_constant_weight_over_everything():
    method = FTL2(FTL2.Config(strength=10.0))
    learner = multi_head(method)
    for k in range(2):
        method.on_task_end(learner, FakeTask(k))
    with torch.no_grad():
        learner.networks["actor"].layers[-1].bias[0] += 1.0
    expected = 10.0 * learner.networks["actor"].layers[-1].bias.shape[-1]
    torch.testing.assert_close(method.loss(learner, "actor", None), torch.tensor(expected))


def test_cw_ewc_uses_the_post_tanh_mean_and_zero_fisher_on_heads():
    method = EWC(EWC.Config(strength=1.0, samples=8, variant="cw"))
    learner = multi_head(method)
    fill(learner, [0, 1], 16)
    method.on_task_end(learner, FakeTask(0))
    shared = trunk_mask(learner.networks["actor"])
    assert all(f.abs().sum() == 0 for f, s in zip(method.fisher, shared) if not s)
    assert all(f.min() > 0 for f, s in zip(method.fisher, shared) if s)
    obs = torch.randn(2, 4, OBS)
    pre = fisher_diagonal(learner.networks["actor"], obs, ACT)
    post = fisher_diagonal(learner.networks["actor"], obs, ACT, squash_mean=True)
    assert not torch.allclose(pre["layers.0.weight"], post["layers.0.weight"])


@pytest.mark.parametrize("cls", [FTL2, EWC])
def test_unknown_variant_is_an_error_naming_the_allowed(cls):
    with pytest.raises(ValueError, match="allowed: salina, cw"):
        cls(cls.Config(variant="avalanche"))


def test_cw_prune_share_hands_the_smallest_magnitudes_to_the_next_task():
    from plasticbench.methods.packnet_cw import prune_share

    weight = torch.tensor([[[0.1, -0.5], [0.3, 0.05]], [[0.9, 0.2], [-0.1, 0.4]]])  # two seeds
    owner = torch.tensor([[[0, 0], [0, 0]], [[0, 3], [0, 0]]], dtype=torch.int16)  # seed 1: one entry not task 0's
    new = prune_share(weight, owner, 0, 0.5)
    assert new[0].tolist() == [[1, 0], [0, 1]]  # 0.05 and 0.1 go to task 1
    assert new[1].tolist() == [[0, 3], [1, 0]]  # floor(0.5 * 3) = 1 of seed 1's three: |-0.1|


def test_cw_packnet_freezes_earlier_kernels_and_biases_and_views_by_owner():
    from plasticbench.methods.packnet import PackNet
    from plasticbench.methods.packnet_cw import trunk_layers

    method = PackNet(PackNet.Config(variant="cw", retrain_steps=3))
    learner = multi_head(method)
    layers = trunk_layers(learner.networks["actor"])
    assert len(layers) == 2  # the head layer is unmanaged
    for k in range(2):
        learner.start_task(k)
        method.on_task_start(learner, FakeTask(k))
        fill(learner, [0, 1], 16)
        before = [(layer.weight.detach().clone(), layer.bias.detach().clone()) for layer in layers]
        for _ in range(4):
            learner.update()
        for layer, owner, (w, b) in zip(layers, method.cw.owner_tensors(learner), before):
            earlier = owner < k
            assert torch.equal(layer.weight[earlier], w[earlier])
            assert k == 0 or torch.equal(layer.bias, b)
            assert not torch.equal(layer.weight[owner == k], w[owner == k])
        method.on_task_end(learner, FakeTask(k))
        owners = method.cw.owner_tensors(learner)
        assert all(torch.all(layer.weight[o > k] == 0) for layer, o in zip(layers, owners))
    for seed in range(2):  # an equal share per task: 24 first-layer kernel entries, 8 each
        assert [(owners[0][seed] == t).sum().item() for t in range(TASKS)] == [8, 8, 8]
    live = [layer.weight.detach().clone() for layer in layers]
    with method.evaluating(learner, 0):
        assert all(torch.all(layer.weight[o > 0] == 0) and torch.equal(layer.weight[o == 0], w[o == 0])
                   for layer, o, w in zip(layers, owners, live))
    assert all(torch.equal(layer.weight, w) for layer, w in zip(layers, live))
