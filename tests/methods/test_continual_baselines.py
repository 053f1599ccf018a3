"""FT-1, FT-L2, FT-N and SAC-N against continual-baselines.md §4-7 on tiny learners."""
from dataclasses import dataclass

import torch

from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.methods.ft_l2 import FTL2, l2_to_anchor
from plasticbench.methods.ft_n import FTN
from plasticbench.methods.sac_n import SACN
from tests.baselines.test_learners import ACT, OBS
from tests.transitions import fill

CONFIG = SACConfig(hidden=(8, 8), batch_size=4)


@dataclass
class FakeTask:
    index: int
    name: str = "task"


def test_l2_to_anchor_is_the_plain_sum_of_squares_per_seed_summed_over_seeds():
    params = [torch.tensor([[1.0, 2.0], [0.0, 0.0]]), torch.tensor([[[3.0]], [[1.0]]])]
    anchor = [torch.zeros(2, 2), torch.zeros(2, 1, 1)]
    assert l2_to_anchor(params, anchor).item() == (1 + 4 + 9) + 1


def test_ft_l2_pulls_only_the_actor_and_only_after_the_first_task():
    method = FTL2(FTL2.Config(strength=10.0))
    learner = SAC(CONFIG, OBS, ACT, [0, 1], method)
    assert method.loss(learner, "actor", None) is None
    method.on_task_end(learner, FakeTask(0))
    assert method.loss(learner, "actor", None).item() == 0.0
    assert method.loss(learner, "critic", None) is None
    with torch.no_grad():
        learner.networks["actor"].layers[0].bias[1] += 0.5  # seed 1 moves away from its anchor
    expected = 10.0 * 0.25 * learner.networks["actor"].layers[0].bias.shape[-1]
    torch.testing.assert_close(method.loss(learner, "actor", None), torch.tensor(expected))
    assert method.model_size(learner) == 2 * learner.policy_params()


def test_ft_n_evaluates_each_task_with_the_actor_stored_at_its_end_and_restores_the_live_one():
    method = FTN()
    learner = SAC(CONFIG, OBS, ACT, [0], method)
    actor = learner.networks["actor"]
    stored = actor.layers[0].weight.detach().clone()
    method.on_task_end(learner, FakeTask(0))
    learner.start_task(1)
    with torch.no_grad():
        actor.layers[0].weight.add_(1.0)
    live = actor.layers[0].weight.detach().clone()
    with method.evaluating(learner, 0):
        assert torch.equal(actor.layers[0].weight, stored)
    assert torch.equal(actor.layers[0].weight, live)
    with method.evaluating(learner, 1):
        assert torch.equal(actor.layers[0].weight, live)
    assert method.model_size(learner) == 2 * learner.policy_params()


def test_sac_n_gives_later_tasks_a_fresh_actor_and_keeps_the_critic():
    method = SACN()
    learner = SAC(CONFIG, OBS, ACT, [0, 1], method)
    fill(learner, [0, 1])
    for _ in range(3):
        learner.update()
    actor_before = [p.detach().clone() for p in learner.networks["actor"].parameters()]
    critic_before = [p.detach().clone() for p in learner.networks["critic"].parameters()]
    method.on_task_end(learner, FakeTask(0))
    learner.start_task(1)
    method.on_task_start(learner, FakeTask(1))
    assert all(not torch.equal(a, b) for a, b in zip(actor_before, learner.networks["actor"].parameters()))
    assert all(torch.equal(a, b) for a, b in zip(critic_before, learner.networks["critic"].parameters()))
    bound = 1 / OBS**0.5
    assert learner.networks["actor"].layers[0].weight.abs().max() <= bound  # a default init again


def test_sac_n_reset_critic_flag_also_refreshes_the_critic():
    method = SACN(SACN.Config(reset_critic=True))
    learner = SAC(CONFIG, OBS, ACT, [0], method)
    critic_before = [p.detach().clone() for p in learner.networks["critic"].parameters()]
    method.on_task_start(learner, FakeTask(1))
    assert all(not torch.equal(a, b) for a, b in zip(critic_before, learner.networks["critic"].parameters()))


def test_scratch_starts_every_task_as_a_fresh_learner_and_explores_uniformly_until_its_first_update():
    from plasticbench.methods.scratch import Scratch

    method = Scratch()
    learner = SAC(CONFIG, OBS, ACT, [0, 1], method)
    learner.start_task(0)
    method.on_task_start(learner, FakeTask(0))
    fill(learner, [0, 1], steps=8)
    for _ in range(3):
        learner.update()
    trained = {role: [p.detach().clone() for p in learner.networks[role].parameters()] for role in ("actor", "critic")}
    method.on_task_end(learner, FakeTask(0))
    learner.start_task(1)
    method.on_task_start(learner, FakeTask(1))
    for role in ("actor", "critic"):  # both re-initialized: the critic does not carry over, unlike SAC-N's
        assert all(not torch.equal(p, q) for p, q in zip(learner.networks[role].parameters(), trained[role]))
    assert learner.buffer.size == 0 and learner.log_alpha.exp().allclose(torch.tensor(CONFIG.init_temperature))
    counter = learner.rng.counter
    action = learner.act(torch.zeros(2, OBS), explore=True)  # before the task's first update: uniform
    assert learner.rng.counter == counter + 1 and action.abs().max() < 1.0
    assert method.act(learner, torch.zeros(2, OBS), explore=False) is None  # evaluation keeps the policy
    fill(learner, [0, 1], steps=8)
    learner.update()
    assert method.act(learner, torch.zeros(2, OBS), explore=True) is None  # after it, the policy acts
