"""BCQ and IQL: their math against hand values, seed independence, and offline-only use."""
import math

import pytest
import torch

from plasticbench.baselines.bcq import BCQ, BCQConfig, perturb, soft_clipped_double_q
from plasticbench.baselines.iql import IQL, IQLConfig, advantage_weights, cosine_lr, expectile_loss, trajectory_returns
from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.methods.ft1 import FT1
from tests.seeds import assert_seed_matches

OBS, ACT, ROWS = 5, 2, 64
LEARNERS = [(BCQ, BCQConfig(hidden=(16, 16), vae_hidden=(16, 16), batch_size=8, action_samples=7)),
            (IQL, IQLConfig(hidden=(16, 16), batch_size=8))]


def dataset(rows: int = ROWS) -> dict[str, torch.Tensor]:
    """A fixed dataset (the same for every seed): episodes of 10 rows, rewards in [0, 1)."""
    g = torch.Generator().manual_seed(7)
    end = torch.zeros(rows, dtype=torch.bool)
    end[9::10] = True
    return {"obs": torch.randn(rows, OBS, generator=g), "action": torch.rand(rows, ACT, generator=g) * 2 - 1,
            "reward": torch.rand(rows, 1, generator=g), "next_obs": torch.randn(rows, OBS, generator=g),
            "done": torch.zeros(rows, 1), "episode_end": end}


def trained(cls, config, seeds, updates=5):
    learner = cls(config, OBS, ACT, seeds, FT1())
    learner.load_dataset(dataset(), total_updates=updates)
    for _ in range(updates):
        learner.update()
    return learner


@pytest.mark.parametrize("cls,config", LEARNERS)
def test_s_seeds_in_one_offline_learner_equal_s_single_seed_learners(cls, config):
    seeds = [0, 1, 2]
    batched = trained(cls, config, seeds)
    for i, seed in enumerate(seeds):
        assert_seed_matches(batched, i, trained(cls, config, [seed]))


@pytest.mark.parametrize("cls,config", LEARNERS)
def test_offline_learner_refuses_new_transitions_and_keeps_its_data_at_a_task_start(cls, config):
    learner = trained(cls, config, [0], updates=1)
    with pytest.raises(RuntimeError, match="no transitions"):
        no = torch.zeros(1, dtype=torch.bool)
        learner.observe(torch.zeros(1, OBS), torch.zeros(1, ACT), torch.zeros(1), torch.zeros(1, OBS), no, no)
    learner.start_task(0)
    assert learner.buffer.size == ROWS


def test_online_learner_refuses_a_dataset():
    with pytest.raises(ValueError, match="online"):
        SAC(SACConfig(hidden=(8,)), OBS, ACT, [0], FT1()).load_dataset(dataset(), 10)


def test_bcq_perturbation_never_exceeds_phi():
    torch.manual_seed(0)
    learner = BCQ(BCQConfig(hidden=(16, 16), vae_hidden=(16, 16), phi=0.05), OBS, ACT, [0, 1], FT1())
    with torch.no_grad():
        for layer in learner.networks["actor"].layers:
            layer.weight.mul_(100.0)  # saturate tanh: the bound must hold at its extreme
        obs, action = torch.randn(2, 500, OBS), torch.rand(2, 500, ACT) * 2 - 1
        moved = perturb(learner.networks["actor"], obs, action, 0.05)
    assert (moved - action).abs().max() <= 0.05 + 1e-7
    assert moved.abs().max() <= 1.0
    assert (moved - action).abs().max() > 0.04  # the bound is reached, not trivially satisfied


def test_bcq_soft_clipped_double_q_by_hand():
    q1, q2 = torch.tensor([1.0, 4.0]), torch.tensor([3.0, 2.0])
    torch.testing.assert_close(soft_clipped_double_q(q1, q2, 0.75), torch.tensor([0.75 * 1 + 0.25 * 3, 0.75 * 2 + 0.25 * 4]))


def test_bcq_acts_in_the_box_and_evaluation_never_moves_the_training_stream():
    learner = trained(*LEARNERS[0], seeds=[0, 1], updates=2)
    counter = learner.rng.counter
    action = learner.policy_action(torch.randn(2, OBS), explore=False, head=0)
    assert action.shape == (2, ACT) and action.abs().max() <= 1.0 and learner.rng.counter == counter


def test_iql_expectile_loss_by_hand():
    diff = torch.tensor([2.0, -2.0, 0.5])
    torch.testing.assert_close(expectile_loss(diff, 0.7), torch.tensor([0.7 * 4, 0.3 * 4, 0.7 * 0.25]))


def test_iql_advantage_weights_by_hand_and_clipped():
    q, v = torch.tensor([1.0, 0.0, 10.0]), torch.tensor([0.5, 1.0, 0.0])
    torch.testing.assert_close(advantage_weights(q, v, 3.0, 100.0), torch.tensor([math.exp(1.5), math.exp(-3.0), 100.0]))


def test_iql_cosine_actor_lr_decays_from_full_to_zero():
    assert cosine_lr(3e-4, 0, 100) == 3e-4 and cosine_lr(3e-4, 100, 100) == pytest.approx(0.0, abs=1e-12)
    assert cosine_lr(3e-4, 50, 100) == pytest.approx(1.5e-4) and cosine_lr(3e-4, 7, None) == 3e-4


def test_iql_reward_scaling_spans_1000_over_trajectory_returns():
    data = dataset(30)  # three trajectories of 10 rows
    returns = trajectory_returns(data["reward"][:, 0], data["episode_end"])
    torch.testing.assert_close(returns, data["reward"][:, 0].view(3, 10).sum(1))
    learner = IQL(IQLConfig(hidden=(8,)), OBS, ACT, [0], FT1())
    learner.load_dataset(data, 10)
    scaled = trajectory_returns(learner.buffer.storage["reward"][:, 0], data["episode_end"])
    assert float(scaled.max() - scaled.min()) == pytest.approx(1000.0, rel=1e-5)


def test_iql_value_step_moves_only_the_value_network():
    learner = IQL(IQLConfig(hidden=(16, 16), batch_size=8), OBS, ACT, [0], FT1())
    learner.load_dataset(dataset(), 10)
    before = {role: [p.detach().clone() for p in learner.networks[role].parameters()] for role in ("actor", "value", "critic")}
    batch = learner.sample_batch()
    with torch.no_grad():
        q = torch.min(*learner.networks["critic_target"](batch.obs, batch.action))
    learner.step_optimizer("value", expectile_loss(q - learner.networks["value"](batch.obs), 0.7).mean(), batch)
    changed = {role: any(not torch.equal(a, b) for a, b in zip(ps, learner.networks[role].parameters())) for role, ps in before.items()}
    assert changed == {"actor": False, "value": True, "critic": False}


@pytest.mark.parametrize("cls,config", LEARNERS)
def test_a_poisoned_seed_of_an_offline_learner_is_frozen_and_dated_by_its_gradient_step(cls, config):
    """Main's divergence guard on BCQ and IQL: the other seed's every bit is that of a clean run."""
    from tests.poison import PoisonedGradient, seed_slices

    def run(at_update):
        learner = cls(config, OBS, ACT, [0, 1], PoisonedGradient(PoisonedGradient.Config(at_update=at_update)))
        learner.load_dataset(dataset(), total_updates=6)
        for _ in range(6):
            learner.update()
        return learner

    poisoned, clean = run(3), run(-1)
    assert poisoned.diverged() == {1: 3} and clean.diverged() == {}  # offline: no env step, the update count
    for role, tensors in seed_slices(clean, 0).items():
        assert all(torch.equal(a, b) for a, b in zip(seed_slices(poisoned, 0)[role], tensors)), role
    for role, before in poisoned.method.frozen.items():
        assert all(torch.equal(p[1], b) for p, b in zip(poisoned.networks[role].parameters(), before)), role


@pytest.mark.parametrize("cls,config", LEARNERS)
def test_offline_learners_keep_each_seeds_own_loss_for_live_logging(cls, config):
    learner = trained(cls, config, [0, 1, 2], updates=2)
    roles = {"bcq": {"vae", "critic", "actor"}, "iql": {"value", "actor", "critic"}}[learner.name]
    diagnostics = learner.diagnostics()
    assert set(diagnostics) == {f"{role}_loss" for role in roles}
    assert all(v.shape == (3,) and torch.isfinite(v).all() for v in diagnostics.values())
    assert len({float(v) for v in diagnostics["critic_loss"]}) == 3  # each seed's own, never a shared mean
