"""PackNet, Salina/Brax version (continual-baselines.md §10.1): allocation rule, frozen entries, fine-tune,
evaluation views, seeds, checkpoints, and a resumed run equal to an uninterrupted one."""
import copy
import dataclasses
import math

import pytest
import torch

from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.baselines.td3 import TD3, TD3Config
from plasticbench.methods.packnet import FREE, PackNet, actor_tensors, allocate
from tests.resume import killed_and_resumed
from tests.methods.test_continual_baselines import FakeTask
from tests.transitions import fill

OBS, ACT = 5, 2
CONFIG = SACConfig(hidden=(16, 16), batch_size=8, init_temperature=2.0)


def make(seeds=(0, 1), cls=SAC, learner_config=CONFIG, **options):
    method = PackNet(PackNet.Config(**{"retrain_steps": 4, **options}))
    return cls(learner_config, OBS, ACT, list(seeds), method), method


def train_task(learner, method, index, seeds, updates=5):
    """One task as the run loop drives it: start, fill, update, consolidate."""
    learner.start_task(index)
    method.on_task_start(learner, FakeTask(index))
    fill(learner, seeds, steps=20 + index)
    for _ in range(updates):
        learner.update()
    method.on_task_end(learner, FakeTask(index))


def snapshot(learner):
    return [p.detach().clone() for p in actor_tensors(learner)]


def test_allocation_matches_a_hand_computed_layer_per_seed_with_allocated_entries_as_zero():
    weight = torch.tensor([[0.1, -0.9, 0.3, 0.5], [-0.2, 0.05, 0.7, -0.6]]).expand(2, 2, 4)  # [S=2, 2, 4]
    owner = torch.full((2, 2, 4), FREE, dtype=torch.int16)
    owner[1, 0, 1] = owner[1, 1, 2] = 0  # seed 1: task 0 already owns the 0.9 and the 0.7
    # floor(0.5 * 8) = 4th smallest: seed 0 |w| .05 .1 .2 .3 | .5 .6 .7 .9 -> c = .3;
    # seed 1 counts its two owned entries as 0: 0 0 .05 .1 | .2 .3 .5 .6 -> c = .1
    new = allocate(weight, owner, 1, 0.5)
    assert new[0].tolist() == [[-1, 1, -1, 1], [-1, -1, 1, 1]]
    assert new[1].tolist() == [[-1, 0, 1, 1], [1, -1, 0, 1]]
    bias = torch.tensor([[[0.4, -0.1, 0.2]]]).expand(2, 1, 3)  # biases are ranked on their own: rank floor(1.5) = 1
    bias_owner = torch.tensor([[[FREE, FREE, FREE]], [[0, FREE, FREE]]], dtype=torch.int16)
    assert allocate(bias, bias_owner, 1, 0.5).tolist() == [[[1, -1, 1]], [[0, 1, 1]]]
    # the spec's 0.875 on 8 entries: the 7th smallest is the cutoff, so each seed gives task 1 its largest free entry
    assert allocate(weight, owner, 1, 0.875).eq(1).nonzero().tolist() == [[0, 0, 1], [1, 1, 3]]
    assert allocate(torch.tensor([[[0.3]]]), torch.tensor([[[FREE]]], dtype=torch.int16), 2, 0.875).item() == 2


def test_first_consolidation_keeps_an_eighth_fine_tunes_it_and_zeroes_the_rest():
    learner, method = make()
    train_task(learner, method, 0, [0, 1])
    assert learner.updates == 5 + 4  # retrain_steps fine-tune updates after the task's own
    for p, m in zip(actor_tensors(learner), method.owners):
        n = m[0].numel()
        assert (m == 0).flatten(1).sum(1).tolist() == [n - math.floor(0.875 * n)] * 2
        assert (p[m == FREE] == 0).all() and (p[m == 0] != 0).all()
    assert method.model_size(learner) == 2 * learner.policy_params()


def test_fine_tune_length_is_a_fraction_of_the_tasks_gradient_steps_unless_an_absolute_count_is_set():
    learner, method = make(retrain_steps=None, retrain_fraction=0.25)
    learner.start_task(0)
    method.on_task_start(learner, FakeTask(0))
    fill(learner, [0, 1], steps=20)
    assert method.retrain_length(learner) == 5  # 0.25 of 20 gradient steps at one per env step
    method.on_task_end(learner, FakeTask(0))
    assert learner.updates == 5
    half, half_method = make(learner_config=dataclasses.replace(CONFIG, updates_per_step=0.5), retrain_steps=None)
    half.start_task(0)
    half_method.on_task_start(half, FakeTask(0))
    fill(half, [0, 1], steps=20)
    assert half_method.retrain_length(half) == 2  # the default 0.2 of the 10 gradient steps 20 env steps allow
    assert PackNet.Config().retrain_fraction * 1_000_000 * 0.5 == 100_000  # [RN] at the paper's budget
    assert make(retrain_steps=7)[1].retrain_length(learner) == 7
    for bad in ({"prune_coeff": 1.0}, {"retrain_steps": -1}, {"retrain_fraction": -0.1}):
        with pytest.raises(ValueError, match="packnet"):
            PackNet(PackNet.Config(**bad))


def test_task_1_starts_from_task_0_with_free_entries_zero_and_never_moves_task_0s_entries():
    learner, method = make()
    train_task(learner, method, 0, [0, 1])
    task0 = snapshot(learner)
    learner.start_task(1)
    method.on_task_start(learner, FakeTask(1))
    for p, m in zip(actor_tensors(learner), method.owners):
        assert (p[m == FREE] == 0).all()
    fill(learner, [0, 1], steps=21)
    seen = []
    step = learner.optimizers["actor"].step

    def checked_step():  # the gradient Adam sees, at the moment it steps
        for p, m in zip(actor_tensors(learner), method.owners):
            assert (p.grad[m == 0] == 0).all()
        seen.append(1)
        return step()
    learner.optimizers["actor"].step = checked_step
    for _ in range(6):
        learner.update()
    assert len(seen) == 6
    with torch.no_grad():  # whatever moves an owned entry (Adam momentum would) is undone after the update
        actor_tensors(learner)[0][method.owners[0] == 0] += 1.0
    learner.update()
    moved = False
    for p, m, before in zip(actor_tensors(learner), method.owners, task0):
        assert torch.equal(p[m == 0], before[m == 0])  # bit-identical
        moved |= bool((p[m == FREE] != 0).any())
    assert moved


def test_second_consolidation_fine_tunes_only_task_1s_entries():
    learner, method = make()
    train_task(learner, method, 0, [0, 1])
    task0 = snapshot(learner)
    train_task(learner, method, 1, [0, 1])
    for p, m, before in zip(actor_tensors(learner), method.owners, task0):
        assert torch.equal(p[m == 0], before[m == 0])
        assert (p[m == FREE] == 0).all() and (m == 1).any()
        assert ((m == 1) & (before != 0)).sum() == 0  # task 1 took only entries that were free (zero) after task 0


def test_evaluating_installs_exactly_each_tasks_snapshot_and_restores_the_live_actor():
    learner, method = make()
    train_task(learner, method, 0, [0, 1])
    task0 = snapshot(learner)
    train_task(learner, method, 1, [0, 1])
    task1 = snapshot(learner)
    learner.start_task(2)
    method.on_task_start(learner, FakeTask(2))
    fill(learner, [0, 1])
    for _ in range(3):
        learner.update()
    live = snapshot(learner)
    for j, expected in ((0, task0), (1, task1), (2, live), (5, live)):
        with method.evaluating(learner, j):
            assert all(torch.equal(p, e) for p, e in zip(actor_tensors(learner), expected)), j
        assert all(torch.equal(p, e) for p, e in zip(actor_tensors(learner), live))


@pytest.mark.parametrize("cls,config", [(SAC, CONFIG), (TD3, TD3Config(hidden=(16, 16), batch_size=8))])
def test_two_seeds_in_one_learner_equal_two_single_seed_learners(cls, config):
    def two_tasks(seeds):
        learner, method = make(seeds, cls, config)
        for k in range(2):
            train_task(learner, method, k, seeds)
        return learner, method
    together, together_method = two_tasks([0, 1])
    for i, seed in enumerate([0, 1]):
        alone, alone_method = two_tasks([seed])
        for m, n in zip(together_method.owners, alone_method.owners):
            assert torch.equal(m[i], n[0])
        for p, q in zip(actor_tensors(together), actor_tensors(alone)):
            torch.testing.assert_close(p[i], q[0], rtol=1e-5, atol=1e-6)


def test_td3_target_actor_keeps_the_frozen_entries():
    learner, method = make(cls=TD3, learner_config=TD3Config(hidden=(16, 16), batch_size=8))
    train_task(learner, method, 0, [0, 1])
    task0 = snapshot(learner)
    train_task(learner, method, 1, [0, 1], updates=6)
    target = [p for layer in learner.networks["actor_target"].layers for p in (layer.weight, layer.bias)]
    for p, m, before in zip(target, method.owners, task0):
        assert torch.equal(p[m == 0], before[m == 0]) and (p[m == FREE] == 0).all()


def test_checkpoint_round_trip_mid_task_continues_identically():
    a, a_method = make(retrain_steps=None)  # the fine-tune length then depends on the task's start, restored too
    train_task(a, a_method, 0, [0, 1])
    a.start_task(1)
    a_method.on_task_start(a, FakeTask(1))
    fill(a, [0, 1])
    a.update()
    b, b_method = make(retrain_steps=None)
    b.load_state_dict(copy.deepcopy(a.state_dict()))  # as through torch.save/torch.load
    b_method.load_state_dict(copy.deepcopy(a_method.state_dict()))
    for learner, method in ((a, a_method), (b, b_method)):
        for _ in range(3):
            learner.update()
        method.on_task_end(learner, FakeTask(1))
    assert all(torch.equal(m, n) for m, n in zip(a_method.owners, b_method.owners))
    assert all(torch.equal(p, q) for p, q in zip(actor_tensors(a), actor_tensors(b)))
    assert b_method.finished == 2 and b.updates == a.updates


def test_a_killed_packnet_run_resumes_to_the_same_record(tiny_config, tmp_path, monkeypatch):
    options = ("method=packnet", "suite=halfcheetah_forgetting", "seeds=2", "scale.steps_per_task=32",
               "scale.eval_every=32", "scale.checkpoint_every=16", "scale.learning_starts=16")
    # killed at a mid-task checkpoint of the third task, after two consolidations
    resumed, straight = killed_and_resumed(tiny_config, options, tmp_path, monkeypatch, die_at=5)
    assert resumed["curves"] == straight["curves"] and resumed["final_returns"] == straight["final_returns"]
    assert straight["model_size"]["actor"] == 2.0
