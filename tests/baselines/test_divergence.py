"""A diverged seed is frozen at the step it diverged; the other seeds never notice (issue #11)."""
import pytest
import torch

from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.baselines.td3 import TD3, TD3Config
from tests.poison import PoisonedGradient, seed_slices
from tests.transitions import fill

OBS, ACT, UPDATES, POISON_AT = 5, 2, 8, 3
LEARNERS = [(SAC, SACConfig(hidden=(16, 16), batch_size=8)), (TD3, TD3Config(hidden=(16, 16), batch_size=8, policy_delay=2))]


def trained(cls, config, at_update):
    learner = cls(config, OBS, ACT, [0, 1], PoisonedGradient(PoisonedGradient.Config(at_update=at_update)))
    fill(learner, [0, 1])
    for _ in range(UPDATES):
        learner.update()
    return learner


@pytest.mark.parametrize("cls,config", LEARNERS)
def test_poisoned_seed_is_frozen_and_the_other_is_bit_identical(cls, config):
    poisoned, clean = trained(cls, config, POISON_AT), trained(cls, config, -1)
    assert poisoned.diverged() == {1: poisoned.method.at_step} and clean.diverged() == {}
    for role, tensors in seed_slices(clean, 0).items():  # seed 0: the very same bits, targets and temperature too
        assert all(torch.equal(a, b) for a, b in zip(seed_slices(poisoned, 0)[role], tensors)), role
    for role, before in poisoned.method.frozen.items():  # seed 1: as it was just before its bad step
        assert all(torch.equal(p[1], b) for p, b in zip(poisoned.networks[role].parameters(), before)), role
        assert all(torch.isfinite(p).all() for p in poisoned.networks[role].parameters())


def test_a_frozen_seeds_optimizer_moments_stop_changing():
    learner = trained(SAC, SACConfig(hidden=(16, 16), batch_size=8), POISON_AT)
    moments = {id(p): {k: v[1].clone() for k, v in s.items() if k != "step"} for opt in learner.optimizers.values()
               for p, s in opt.state.items()}
    for _ in range(3):
        learner.update()
    for opt in learner.optimizers.values():
        for p, state in opt.state.items():
            assert all(torch.equal(state[k][1], v) for k, v in moments[id(p)].items())
            assert torch.isfinite(state["exp_avg"][1]).all()


def test_a_non_finite_action_marks_its_seed_and_is_not_sent_to_the_environment():
    learner = SAC(SACConfig(hidden=(16, 16), batch_size=8), OBS, ACT, [0, 1], PoisonedGradient())
    with torch.no_grad():
        next(learner.networks["actor"].parameters())[0].fill_(float("nan"))
    action = learner.act(torch.zeros(2, OBS), explore=True)
    assert torch.isfinite(action).all() and torch.equal(action[0], torch.zeros(ACT))
    assert learner.diverged() == {0: 0}


def test_the_accelerator_path_leaves_healthy_seeds_bit_identical(monkeypatch):
    """On a GPU the restore runs every step without reading the mask back: with every seed healthy
    it must change nothing (forced here on CPU)."""
    from plasticbench.baselines.divergence import SeedHealth

    config = SACConfig(hidden=(16, 16), batch_size=8)
    skipping = trained(SAC, config, -1)
    monkeypatch.setattr(SeedHealth, "all_alive_on_host", lambda self: False)
    restoring = trained(SAC, config, -1)
    for seed in (0, 1):
        for role, tensors in seed_slices(skipping, seed).items():
            assert all(torch.equal(a, b) for a, b in zip(seed_slices(restoring, seed)[role], tensors)), role


def test_pre_step_copies_are_taken_exactly_when_a_seed_could_be_lost():
    """The guard skips its pre-step copies only for finite per-seed norms with every seed healthy on the
    CPU; a non-finite norm, a frozen seed, or a missing norm takes them (the poisoned tests restore from them)."""
    from plasticbench.baselines.divergence import SeedHealth

    health = SeedHealth(2, torch.device("cpu"))
    assert not health._may_diverge(torch.tensor([1.0, 2.0]))
    assert health._may_diverge(torch.tensor([1.0, float("nan")]))
    assert health._may_diverge(torch.tensor(float("nan")))  # no parameter held a gradient
    health.observe(torch.tensor([True, False]), env_step=5)
    assert health._may_diverge(torch.tensor([1.0, 2.0]))


def test_fused_polyak_equals_the_per_tensor_average_bit_for_bit():
    from plasticbench.baselines.divergence import SeedHealth

    health, generator = SeedHealth(2, torch.device("cpu")), torch.Generator().manual_seed(0)
    shapes = [(2, 17, 64), (2, 1, 64), (2, 64, 1), (2, 1, 1)]
    targets = [torch.randn(s, generator=generator) for s in shapes]
    sources = [torch.randn(s, generator=generator) for s in shapes]
    fused, single = [t.clone() for t in targets], [t.clone() for t in targets]
    health.polyak_all(fused, sources, 0.005)
    for target, source in zip(single, sources):
        health.polyak(target, source, 0.005)
    assert all(torch.equal(a, b) for a, b in zip(fused, single))
