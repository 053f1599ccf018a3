"""PI (pi.md §7): output kept at injection, frozen parts frozen, the new head learns, seeds independent."""
from types import SimpleNamespace

import pytest
import torch

from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.baselines.td3 import TD3, TD3Config
from plasticbench.benchmark.registry import get_method
from plasticbench.methods.pi import InjectableMLP, PlasticityInjection, injectable_modules
from tests.transitions import fill

OBS, ACT = 4, 2
NEVER = 10**9


def make(cls=TD3, seeds=(0, 1), updates=3, batch_size=8, **pi):
    config = (TD3Config if cls is TD3 else SACConfig)(hidden=(8, 8), batch_size=batch_size, policy_delay=1, target_delay=1)
    learner = cls(config, OBS, ACT, list(seeds), PlasticityInjection(PlasticityInjection.Config(**pi)))
    fill(learner, seeds)
    for _ in range(updates):
        learner.update()
    return learner


def outputs(learner, obs, act):
    nets = learner.networks
    out = {"actor": nets["actor"](obs), "critic": torch.cat(nets["critic"](obs, act), -1),
           "critic_target": torch.cat(nets["critic_target"](obs, act), -1)}
    if "actor_target" in nets:
        out["actor_target"] = nets["actor_target"](obs)
    return {k: v.detach().clone() for k, v in out.items()}


def params(learner):
    return {(role, n): p.detach().clone() for role, net in learner.networks.items() for n, p in net.named_parameters()}


@pytest.mark.parametrize("cls", [TD3, SAC])
def test_output_unchanged_at_injection_for_actor_critic_and_targets(cls):
    learner = make(cls, injection_step=NEVER)
    obs, act = torch.randn(2, 16, OBS), torch.randn(2, 16, ACT).tanh()
    before = outputs(learner, obs, act)
    trainable = {role: sum(p.numel() for p in learner.networks[role].parameters() if p.requires_grad)
                 for role in ("actor", "critic")}
    learner.method.inject(learner)
    assert all(len(m.injections) == 1 for net in learner.networks.values() for m in injectable_modules(net))
    after = outputs(learner, obs, act)
    for key in before:
        assert (after[key] - before[key]).abs().max() < 1e-6, key
    for role, count in trainable.items():  # pi.md §7.2: head = one Linear, trainable count unchanged
        assert sum(p.numel() for p in learner.networks[role].parameters() if p.requires_grad) == count
    for net in learner.networks.values():  # targets: nothing trains
        if net not in (learner.networks["actor"], learner.networks["critic"]):
            assert not any(p.requires_grad for p in net.parameters())


def test_after_updates_the_new_head_changed_and_frozen_parts_are_bit_identical():
    learner = make(TD3, injection_step=NEVER)
    learner.method.inject(learner)
    frozen = {}
    for role in ("actor", "critic"):
        for i, m in enumerate(injectable_modules(learner.networks[role])):
            frozen[(role, i)] = ([p.clone() for p in m.layers[-1].parameters()],
                                 [p.clone() for p in m.injections[0].frozen.parameters()],
                                 [p.clone() for p in m.injections[0].trainable.parameters()],
                                 [p.clone() for p in m.layers[0].parameters()])
    for _ in range(3):
        learner.update()
    for role in ("actor", "critic"):
        optimizer_params = {p for group in learner.optimizers[role].param_groups for p in group["params"]}
        for i, m in enumerate(injectable_modules(learner.networks[role])):
            head, copy, fresh, encoder = frozen[(role, i)]
            assert all(torch.equal(a, b) for a, b in zip(m.layers[-1].parameters(), head))
            assert all(torch.equal(a, b) for a, b in zip(m.injections[0].frozen.parameters(), copy))
            assert all(not torch.equal(a, b) for a, b in zip(m.injections[0].trainable.parameters(), fresh))
            assert not torch.equal(m.layers[0].weight, encoder[0])  # phi still learns (pi.md §7.3)
            # pi.md §7.4: every trainable parameter is optimised
            assert all(p in optimizer_params for p in m.parameters() if p.requires_grad)


def test_encoder_gradient_flows_through_all_three_heads():
    net = InjectableMLP(1, (3, 5, 2), "relu", SeedRNG([0]))
    injection = net.inject(SeedRNG([1]))
    with torch.no_grad():
        injection.trainable[0].weight.add_(0.5)
    x = torch.randn(1, 6, 3)
    net(x).square().sum().backward()
    grad = net.layers[0].weight.grad.clone()
    net.zero_grad()
    z = torch.relu(net.layers[0](x))
    out = net.layers[1](z) + injection.trainable[0](z) - injection.frozen[0](z)
    out.square().sum().backward()
    torch.testing.assert_close(grad, net.layers[0].weight.grad)


def test_second_injection_freezes_the_first_fresh_head_and_keeps_the_output():
    learner = make(TD3, injection_step=NEVER)
    obs, act = torch.randn(2, 5, OBS), torch.randn(2, 5, ACT).tanh()
    learner.method.inject(learner)
    learner.update()
    before = outputs(learner, obs, act)
    learner.method.inject(learner)
    after = outputs(learner, obs, act)
    assert all((after[k] - before[k]).abs().max() < 1e-6 for k in before)
    actor = learner.networks["actor"]
    assert not any(p.requires_grad for p in actor.injections[0].parameters())
    assert all(p.requires_grad for p in actor.injections[1].trainable.parameters())


def test_scheduled_injection_fires_once_at_the_env_step():
    learner = make(TD3, injection_step=45, updates=0)  # fill() stored 40 env steps
    for _ in range(2):
        learner.update()
    assert learner.method.injected_at == []
    fill(learner, (0, 1), steps=10)
    for _ in range(3):
        learner.update()
    assert learner.method.injected_at == [50]
    assert len(learner.networks["actor"].injections) == 1
    continual = PlasticityInjection()
    assert continual.injection_step(SimpleNamespace(num_tasks=3)) is None
    assert continual.injection_step(SimpleNamespace(num_tasks=1, task_budget=1_000_000)) == 500_000


def test_checkpoint_restores_the_injected_structure():
    learner = make(TD3, injection_step=NEVER)
    learner.method.inject(learner)
    learner.update()
    state, method_state = learner.state_dict(), learner.method.state_dict()
    fresh = make(TD3, injection_step=NEVER, updates=0)
    fresh.load_state_dict(state)
    fresh.method.load_state_dict(method_state)
    for a, b in zip(params(learner).items(), params(fresh).items()):
        assert a[0] == b[0] and torch.equal(a[1], b[1])
    for role in ("actor", "critic"):
        for x, y in zip(learner.networks[role].parameters(), fresh.networks[role].parameters()):
            assert x.requires_grad == y.requires_grad


def test_seed_independence_across_the_injection():
    def run(seeds):
        learner = make(TD3, seeds=seeds, injection_step=NEVER, updates=2, batch_size=64)  # 64 x 8: the GEMM path
        learner.method.inject(learner)
        for _ in range(3):
            learner.update()
        return params(learner)

    both, solo = run((0, 1)), [run((s,)) for s in (0, 1)]
    for key, value in both.items():
        for s in (0, 1):
            assert torch.equal(value[s], solo[s][key][0]), key


def test_registered_with_model_size_counting_every_held_parameter():
    assert get_method("pi") is PlasticityInjection
    learner = make(TD3, injection_step=NEVER, updates=0)
    base = learner.method.model_size(learner)
    learner.method.inject(learner)
    head = (8 + 1) * ACT  # final Linear 8 -> ACT
    assert learner.method.model_size(learner) == base + 2 * head  # pi.md §4: theta'_1 and theta'_2 added
    with pytest.raises(ValueError):
        InjectableMLP(1, (3, 5, 2), "relu", SeedRNG([0]), head_layers=2)
