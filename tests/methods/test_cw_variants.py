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
