"""Reset (reset.md §7): the chosen layers and only they change, with their optimizer state; schedule; seeds."""
import math
from types import SimpleNamespace

import pytest
import torch

from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.baselines.td3 import TD3, TD3Config
from plasticbench.methods.reset import Reset
from tests.seeds import assert_seed_matches
from tests.transitions import fill

OBS, ACT = 4, 2


def trained(cls, config, method, seeds=(0, 1), updates=4):
    learner = cls(config, OBS, ACT, list(seeds), method)
    fill(learner, seeds)
    for _ in range(updates):
        learner.update()
    return learner


def snapshot(learner):
    params = {(role, n): p.detach().clone() for role, net in learner.networks.items() for n, p in net.named_parameters()}
    states = {(role, n): {k: v.clone() for k, v in learner.optimizers[role].state[p].items()}
              for role in ("actor", "critic") for n, p in learner.networks[role].named_parameters()}
    return params, states


def test_last_layer_reset_changes_exactly_those_layers_and_their_optimizer_state():
    method = Reset(Reset.Config(period=10**9, last_layers=1))  # never due by itself
    learner = trained(TD3, TD3Config(hidden=(8, 8), batch_size=8, policy_delay=1), method)
    buffer_before = {k: v.clone() for k, v in learner.buffer.storage.items()}
    params, states = snapshot(learner)
    method.reset(learner, last_layers=1)

    reset_names = {"layers.2.weight", "layers.2.bias", "q1.layers.2.weight", "q1.layers.2.bias",
                   "q2.layers.2.weight", "q2.layers.2.bias"}
    for (role, name), old in params.items():
        new = dict(learner.networks[role].named_parameters())[name]
        if role in ("actor", "critic"):
            assert torch.equal(new, old) == (name not in reset_names), (role, name)
    for role, target in learner.target_roles.items():
        online, copy = dict(learner.networks[role].named_parameters()), dict(learner.networks[target].named_parameters())
        for name in online:
            if name in reset_names:
                assert torch.equal(copy[name], online[name])  # the target equals the fresh layer
            else:
                assert torch.equal(copy[name], params[(target, name)])  # kept target layers untouched
    for role in ("actor", "critic"):
        optimizer = learner.optimizers[role]
        for name, p in learner.networks[role].named_parameters():
            if name in reset_names:
                assert p not in optimizer.state  # Adam restarts m = v = 0, step 0
            else:
                assert all(torch.equal(optimizer.state[p][k], v) for k, v in states[(role, name)].items())
    assert all(torch.equal(learner.buffer.storage[k], v) for k, v in buffer_before.items())


def test_entire_agent_reset_restores_temperature_and_clears_all_optimizer_state():
    method = Reset(Reset.Config(period=10**9))
    learner = trained(SAC, SACConfig(hidden=(8, 8), batch_size=8, init_temperature=2.0), method)
    params, _ = snapshot(learner)
    method.reset(learner, last_layers=0)
    for (role, name), old in params.items():
        assert not torch.equal(dict(learner.networks[role].named_parameters())[name], old), (role, name)
    torch.testing.assert_close(learner.log_alpha, torch.full_like(learner.log_alpha, math.log(2.0)))
    assert all(len(opt.state) == 0 for opt in learner.optimizers.values())
    for role, target in learner.target_roles.items():
        for p, q in zip(learner.networks[role].parameters(), learner.networks[target].parameters()):
            assert torch.equal(p, q)


def test_schedule_counts_env_steps_once_each_and_honours_max_resets():
    method = Reset(Reset.Config(period=100, max_resets=2))
    calls = []
    method.reset = lambda ctx, last_layers: calls.append(ctx.env_steps)
    for env_steps in [50, 100, 100, 150, 200, 300]:  # asked twice at env step 100: one reset
        method.act(SimpleNamespace(env_steps=env_steps, task_start_step=0, offline=False), None, True)
    method.act(SimpleNamespace(env_steps=400, task_start_step=0, offline=False), None, False)  # evaluation never resets
    assert calls == [100, 200]
    by_budget, calls[:] = Reset(Reset.Config(period_fraction=0.25)), []
    by_budget.reset = lambda ctx, last_layers: calls.append(ctx.env_steps)
    for env_steps in range(1000, 1401, 50):  # a second task of 400 steps starting at env step 1000
        by_budget.act(SimpleNamespace(env_steps=env_steps, task_start_step=1000, task_budget=400, offline=False), None, True)
    assert calls == [1100, 1200, 1300, 1400]
    with pytest.raises(ValueError):
        Reset(Reset.Config(period=0))


def test_task_switch_resets_everything_but_not_the_first_task():
    method = Reset(Reset.Config(period=10**9, last_layers=1))
    calls = []
    method.reset = lambda ctx, last_layers: calls.append(last_layers)
    for index in range(3):
        method.on_task_start(None, SimpleNamespace(index=index))
    assert calls == [0, 0]


@pytest.mark.parametrize("cls,config", [(SAC, SACConfig(hidden=(16, 16), batch_size=27)),
                                        (TD3, TD3Config(hidden=(16, 16), batch_size=27))])
@pytest.mark.parametrize("last_layers", [0, 1])
def test_two_seeds_in_one_learner_equal_two_single_seed_learners(cls, config, last_layers):
    def run(seeds):
        learner = trained(cls, config, Reset(Reset.Config(period=40, last_layers=last_layers)), seeds, updates=0)
        learner.act(torch.zeros(len(seeds), OBS), explore=True)  # env step 40: resets once
        for _ in range(3):
            learner.update()  # then trains on
        return learner

    batched = run([0, 1])
    assert batched.method.resets == 1
    for i, seed in enumerate([0, 1]):
        single = run([seed])
        assert_seed_matches(batched, i, single)
