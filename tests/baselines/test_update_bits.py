"""The per-update overhead cuts of issue #20 change no bit of a training: each fast path is compared
with the plain code it replaced, with zero tolerance, so committed records stay valid."""
import pytest
import torch

from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.baselines.td3 import TD3, TD3Config
from plasticbench.benchmark.metrics.plasticity import grad_norm
from plasticbench.methods.ft1 import FT1
from tests.poison import seed_slices
from tests.transitions import fill

LEARNERS = [(SAC, SACConfig(hidden=(16, 16), batch_size=8)), (TD3, TD3Config(hidden=(16, 16), batch_size=8))]
SHAPES = [(3, 23, 64), (3, 1, 64), (3, 64, 64), (3, 64, 1), (3, 1, 1)]


def gradients(scales):
    """Gradient tensors of SHAPES whose magnitudes span 1e-3 .. 1e3 (rounding differences would show)."""
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(s, generator=generator) * scale for s, scale in zip(SHAPES, scales)]


def test_grad_norm_equals_the_plain_per_tensor_sum_bit_for_bit():
    params = [torch.nn.Parameter(torch.zeros(s)) for s in SHAPES]
    for p, g in zip(params, gradients([0.11, 0.9, 0.13, 0.7, 3.3])):
        p.grad = g
    squares = [p.grad.flatten(1).pow(2).sum(dim=1) for p in params]
    plain = sum(squares).sqrt()
    other_order = sum(reversed(squares[1:]), squares[0]).sqrt()  # s0 + s4 + s3 + s2 + s1
    assert not torch.equal(other_order, plain)  # the case tells summation orders apart
    assert torch.equal(grad_norm(params), plain)
    assert torch.equal(grad_norm(params[:1]), params[0].grad.flatten(1).pow(2).sum(dim=1).sqrt())


def test_foreach_adam_equals_the_per_tensor_loop_bit_for_bit():
    runs = []
    for foreach in (False, True):
        params = [torch.nn.Parameter(torch.ones(s)) for s in SHAPES]
        optimizer = torch.optim.Adam(params, lr=3e-4, foreach=foreach)
        for step in range(20):
            for p, g in zip(params, gradients([10.0 ** ((step + i) % 7 - 3) for i in range(len(SHAPES))])):
                p.grad = g
            optimizer.step()
        runs.append((params, optimizer))
    (loop, loop_opt), (fused, fused_opt) = runs
    for a, b in zip(loop, fused):
        assert torch.equal(a, b)
        assert all(torch.equal(loop_opt.state[a][k], fused_opt.state[b][k]) for k in ("exp_avg", "exp_avg_sq", "step"))


@pytest.mark.parametrize("cls,config", LEARNERS)
def test_a_learner_trains_to_the_same_bits_with_the_plain_optimizer_and_the_full_guard(cls, config, monkeypatch):
    """The fast paths together (foreach Adam, the bare healthy step) against the plain ones: Adam's
    per-tensor loop and the guard's copies and post-step finiteness pass on every step."""
    from plasticbench.baselines.divergence import SeedHealth

    def train():
        learner = cls(config, 5, 2, [0, 1], FT1(FT1.Config()))
        fill(learner, [0, 1])
        for _ in range(6):
            learner.update()
        return learner

    fast = train()
    plain_adam = torch.optim.Adam
    monkeypatch.setattr(torch.optim, "Adam", lambda params, lr, foreach=None: plain_adam(params, lr=lr, foreach=False))
    monkeypatch.setattr(SeedHealth, "_may_diverge", lambda self, norm: True)
    plain = train()
    for seed in (0, 1):
        for role, tensors in seed_slices(plain, seed).items():
            assert all(torch.equal(a, b) for a, b in zip(seed_slices(fast, seed)[role], tensors)), role
    for role, norm in plain.last_grad_norms.items():
        assert torch.equal(fast.last_grad_norms[role], norm), role
