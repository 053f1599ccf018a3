"""Learner properties: seed independence, gradient isolation, per-task resets, the SAC log-likelihood."""
import copy
import dataclasses
import math

import pytest
import torch

from plasticbench.baselines.sac import SAC, SACConfig, squashed_gaussian
from plasticbench.baselines.td3 import TD3, TD3Config
from plasticbench.methods.ft1 import FT1
from tests.seeds import assert_seed_matches
from tests.transitions import fill

OBS, ACT = 5, 2
LEARNERS = [(SAC, SACConfig(hidden=(16, 16), batch_size=8)), (TD3, TD3Config(hidden=(16, 16), batch_size=8))]


@pytest.mark.parametrize("threads", [1, pytest.param(2, marks=pytest.mark.slow)])  # 2 threads: minutes on a busy CI core
@pytest.mark.parametrize("cls,config", LEARNERS)
def test_s_seeds_in_one_learner_equal_s_single_seed_learners_bit_for_bit(cls, config, threads):
    """After 1,000 updates, zero tolerance: an odd batch of 27 rows (above the size where a 1-column `baddbmm` changes kernels) puts every seed's rows at another
    offset in the [S, ...] tensors for S = 1 and S = 4, and the critic's last layer is N -> 1. With two threads
    the 5-dim observation makes the first layers' weight gradients the narrow products whose lone-seed kernel
    differs (issue #17; without `batched_affine`'s pairing seed 0 parted after 2 updates)."""
    torch.set_num_threads(threads)  # the autouse fixture puts the thread count back
    config = dataclasses.replace(config, batch_size=27)
    seeds = [0, 1, 2, 3]
    batched = cls(config, OBS, ACT, seeds, FT1())
    fill(batched, seeds)
    for _ in range(1000):
        batched.update()
    for i in (0, 3):  # the first and the last row of the seed axis
        single = cls(config, OBS, ACT, [seeds[i]], FT1())
        fill(single, [seeds[i]])
        for _ in range(1000):
            single.update()
        assert_seed_matches(batched, i, single)


@pytest.mark.parametrize("cls,config", LEARNERS)
def test_target_networks_never_receive_gradients(cls, config):
    learner = cls(config, OBS, ACT, [0, 1], FT1())
    fill(learner, [0, 1])
    learner.update()
    for role, target in learner.target_roles.items():
        assert all(p.grad is None and not p.requires_grad for p in learner.networks[target].parameters())


def test_critic_step_leaves_the_actor_untouched():
    learner = SAC(SACConfig(hidden=(16, 16), batch_size=8, policy_delay=2), OBS, ACT, [0], FT1())
    fill(learner, [0])
    learner.update()  # update 0: critic and actor
    before = [p.detach().clone() for p in learner.networks["actor"].parameters()]
    learner.update()  # update 1: critic only (policy_delay=2)
    assert all(torch.equal(a, b) for a, b in zip(before, learner.networks["actor"].parameters()))


def test_start_task_resets_buffer_optimizers_and_temperature():
    learner = SAC(SACConfig(hidden=(16, 16), batch_size=8, init_temperature=2.0), OBS, ACT, [0, 1], FT1())
    fill(learner, [0, 1])
    for _ in range(3):
        learner.update()
    assert not torch.allclose(learner.log_alpha, torch.full_like(learner.log_alpha, math.log(2.0)))
    learner.start_task(1)
    assert learner.buffer.size == 0 and learner.task_index == 1
    assert all(len(opt.state) == 0 for opt in learner.optimizers.values())
    torch.testing.assert_close(learner.log_alpha, torch.full_like(learner.log_alpha, math.log(2.0)))


def test_squashed_gaussian_log_prob_matches_torch_distributions():
    gen = torch.Generator().manual_seed(0)  # fixed draws: the reference's log1p(-tanh(u)^2) loses precision at large |u|
    out = 0.5 * torch.randn(3, 4, 2 * ACT, generator=gen)  # log std inside the clamp range [-20, 2]
    noise = torch.randn(3, 4, ACT, generator=gen)
    action, log_prob = squashed_gaussian(out, noise)
    mu, log_std = out.chunk(2, dim=-1)
    base = torch.distributions.Normal(mu, log_std.exp())
    u = mu + log_std.exp() * noise
    expected = (base.log_prob(u) - torch.log1p(-torch.tanh(u) ** 2)).sum(-1, keepdim=True)
    torch.testing.assert_close(action, torch.tanh(u))
    torch.testing.assert_close(log_prob, expected, rtol=1e-4, atol=1e-4)


def test_checkpoint_round_trip_continues_identically():
    config = SACConfig(hidden=(16, 16), batch_size=8)
    a = SAC(config, OBS, ACT, [0, 1], FT1())
    fill(a, [0, 1])
    a.update()
    b = SAC(config, OBS, ACT, [0, 1], FT1())
    b.load_state_dict(copy.deepcopy(a.state_dict()))  # as through torch.save/torch.load
    a.update(), b.update()
    for p, q in zip(a.networks["actor"].parameters(), b.networks["actor"].parameters()):
        assert torch.equal(p, q)


def test_multi_head_actor_trains_only_the_current_tasks_head():
    learner = SAC(SACConfig(hidden=(16, 16), batch_size=8, multi_head=True), OBS, ACT, [0], FT1(), num_tasks=3)
    learner.start_task(1)
    fill(learner, [0])
    last = learner.networks["actor"].layers[-1]
    before = last.weight.detach().clone()
    learner.update()
    changed = (last.weight != before).any(dim=1)[0]  # [3 * 2A] output columns
    width = 2 * ACT
    assert changed[width:2 * width].all() and not changed[:width].any() and not changed[2 * width:].any()
