"""Per-task action size in a padded scenario (ne_cycle, issue #10 item 4): SAC's target entropy counts the
task's own action components, and the padded components are out of log pi and zero in every action."""
import math

import torch

from plasticbench.baselines.sac import SAC, SACConfig, squashed_gaussian
from plasticbench.baselines.td3 import TD3, TD3Config
from plasticbench.envs.ne_cycle import ACT_DIM_MAX
from plasticbench.methods.ft1 import FT1
from tests.transitions import fill

USED = [6, 17, 8, 3]  # HalfCheetah, Humanoid, Ant, Hopper


def test_target_entropy_follows_each_tasks_action_size():
    learner = SAC(SACConfig(hidden=(8, 8), target_entropy_multiplier=2.0), 5, ACT_DIM_MAX, [0], FT1(), num_tasks=4,
                  task_act_dims=USED)
    entropies = []
    for task in range(4):
        learner.start_task(task)
        entropies.append(learner.target_entropy)
    assert entropies == [-2.0 * a for a in USED]
    plain = SAC(SACConfig(hidden=(8, 8)), 5, 6, [0], FT1())
    assert plain.target_entropy == -6.0 and plain.action_mask is None


def test_padded_components_are_out_of_log_pi_and_zero_in_the_action():
    g = torch.Generator().manual_seed(0)
    out = torch.randn(2, 5, 2 * ACT_DIM_MAX, generator=g, requires_grad=True)
    noise = torch.randn(2, 5, ACT_DIM_MAX, generator=g)
    mask = (torch.arange(ACT_DIM_MAX) < 6).float()
    action, log_prob = squashed_gaussian(out, noise, mask)
    mu, log_std = out.chunk(2, dim=-1)
    small_action, small_log_prob = squashed_gaussian(torch.cat([mu[..., :6], log_std[..., :6]], dim=-1), noise[..., :6])
    torch.testing.assert_close(log_prob, small_log_prob)  # exactly the 6-dimensional policy's log pi
    assert (action[..., 6:] == 0).all() and torch.equal(action[..., :6], small_action)
    log_prob.sum().backward()
    assert (out.grad[..., 6:ACT_DIM_MAX] == 0).all() and (out.grad[..., ACT_DIM_MAX + 6:] == 0).all()
    deterministic, _ = squashed_gaussian(out, None, mask)
    assert (deterministic[..., 6:] == 0).all()


def test_learners_never_emit_padded_components():
    for cls, config in ((SAC, SACConfig(hidden=(8, 8), batch_size=4)), (TD3, TD3Config(hidden=(8, 8), batch_size=4))):
        learner = cls(config, 5, ACT_DIM_MAX, [0, 1], FT1(), num_tasks=4, task_act_dims=USED)
        learner.start_task(3)  # Hopper: 3 used components
        obs = torch.randn(2, 5)
        for action in (learner.act(obs, explore=True), learner.act(obs, explore=False), learner.random_action()):
            assert (action[:, 3:] == 0).all() and (action[:, :3] != 0).all()
        fill(learner, (0, 1), steps=10)
        learner.update()  # the update path (targets, actor loss) runs with the mask
        assert all(math.isfinite(v) for v in learner.last_losses["critic"].flatten().tolist())
