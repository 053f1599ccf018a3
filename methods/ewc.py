"""EWC: a quadratic pull toward the previous policy, weighted by the diagonal Fisher of the actor.

Salina/Rewire version (continual-baselines.md §8.1). At each task end, from N = 1024 states of
that task's buffer, per state s

    F_s = sum_i [ (d mu_i / d theta)^2 + 2 (d sigma_i / d theta)^2 ] / (sigma_i^2 + 1e-6),

the closed-form Fisher of the diagonal Gaussian policy (mu the pre-tanh mean, sigma =
exp(clip(log sigma, -20, 2))), clamped to >= 1e-5 element-wise, then averaged over the states.
F accumulates (sums) over tasks and the anchor theta* is the latest actor. From task 1 on the
actor loss gains lambda * sum F * (theta - theta*)^2. lambda is per scenario (0.01 on HalfCheetah
forgetting, set by the scenario's method overrides). Model size 3.0: policy, anchor and F.

The reference code indexes the head as if it were [mu (|A|/2), log sigma (|A|/2)]; the spec flags
this as a bug. The correct layout is the default; `reference_indexing=true` reproduces the code
(the record's config says which produced a number).

Continual World version (`variant="cw"`, §8.2; the default on the CW suites, with CW's lambda 1e4 and
2,560 states, CW's 10 batches of 256): the same closed form on the post-tanh mean tanh(mu), computed
from the finished task's buffer (CW does it at the next task's start, before the buffer is reset: the
same weights and data), and only the trunk is regularized (the task heads get F = 0,
methods/task_heads.py). CW's optional critic term is off in its paper runs and here.

SAC only: the Fisher above is that of a Gaussian policy; TD3's deterministic actor has none.
Per-state gradients come from torch.func (vmap of jacrev over the states): seeds never mix
because the per-seed outputs are summed before differentiating, and seed s's output depends on
seed s's parameters only.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

from plasticbench.baselines.sac import LOG_STD_MAX, LOG_STD_MIN
from plasticbench.benchmark.registry import register_method
from plasticbench.methods.base import Method
from plasticbench.methods.task_heads import check_variant, trunk_mask

FISHER_EPS = 1e-6  # in the denominator sigma^2 + eps (§8.1)
FISHER_MIN = 1e-5  # per-state, element-wise floor (§8.1)
CHUNK_ELEMENTS = 2**25  # per-state Jacobians held at once (states x outputs x parameters), ~128 MiB


def gaussian_parts(out: torch.Tensor, act_dim: int, reference_indexing: bool,
                   squash_mean: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, sigma) from the actor output [..., 2|A|]: the pre-tanh mean, or tanh of it (`squash_mean`, CW)."""
    if reference_indexing:
        half = act_dim // 2
        mu, log_std = out[..., :half], out[..., half:act_dim]
    else:
        mu, log_std = out[..., :act_dim], out[..., act_dim:]
    return (torch.tanh(mu) if squash_mean else mu), log_std.clamp(LOG_STD_MIN, LOG_STD_MAX).exp()


def fisher_diagonal(actor: nn.Module, obs: torch.Tensor, act_dim: int, head: int = 0,
                    reference_indexing: bool = False, squash_mean: bool = False) -> dict[str, torch.Tensor]:
    """Per-seed diagonal Fisher of `actor`, parameter name -> [S, ...], averaged over obs [S, N, D]."""
    params = {name: p.detach() for name, p in actor.named_parameters()}

    def outputs(p: dict[str, torch.Tensor], state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = functional_call(actor, p, (state[:, None], head))[:, 0]
        mu, sigma = gaussian_parts(out, act_dim, reference_indexing, squash_mean)
        return torch.cat([mu, sigma], dim=-1).sum(0), sigma.detach()  # [K] to differentiate; sigma [S, K/2]

    def per_state(state: torch.Tensor) -> dict[str, torch.Tensor]:  # state [S, D]
        jac, sigma = jacrev(outputs, has_aux=True)(params, state)  # name -> [K, S, ...]; one forward pass
        weight = 1.0 / (sigma ** 2 + FISHER_EPS)  # [S, K/2]
        scale = torch.cat([weight, 2.0 * weight], dim=-1)  # mu terms x1, sigma terms x2
        return {n: torch.einsum("ks,ks...->s...", scale.T, j.pow(2)).clamp_min(FISHER_MIN) for n, j in jac.items()}

    n_states, n_outputs = obs.shape[1], 2 * (act_dim // 2 if reference_indexing else act_dim)
    per_seed_params = sum(p.numel() for p in params.values())
    chunk = max(1, CHUNK_ELEMENTS // (n_outputs * per_seed_params))
    total = {name: torch.zeros_like(p) for name, p in params.items()}
    states = obs.transpose(0, 1)  # [N, S, D]
    for start in range(0, n_states, chunk):
        for name, value in vmap(per_state)(states[start:start + chunk]).items():
            total[name] = torch.cat([total[name][None], value]).cumsum(0)[-1]  # left fold: sum(0)'s order varies with S (#17)
    return {name: value / n_states for name, value in total.items()}


@register_method("ewc", settings={"continual"}, learners={"sac"})
class EWC(Method):
    @dataclass(frozen=True)
    class Config:
        strength: float = 1.0  # lambda (`fisher_coeff`); Rewire's per-scenario values are in the scenario catalog
        samples: int = 1024  # states drawn from the finished task's buffer ([SCL] used 2048; [RN] 1024)
        reference_indexing: bool = False  # true: the reference code's head indexing (see docstring)
        variant: str = "salina"  # "salina" ([RN], §8.1) or "cw" (Continual World, §8.2): module docstring

    def __init__(self, config: Config | None = None) -> None:
        super().__init__(config)
        check_variant("ewc", self.config.variant)
        self.fisher: list[torch.Tensor] | None = None
        self.anchor: list[torch.Tensor] | None = None

    def on_task_end(self, ctx, task) -> None:
        actor = ctx.networks["actor"]
        obs = ctx.buffer.sample(self.config.samples, ctx.rng).obs
        cw = self.config.variant == "cw"
        fisher = fisher_diagonal(actor, obs, ctx.act_dim, ctx.head, self.config.reference_indexing, squash_mean=cw)
        new = [fisher[name] for name, _ in actor.named_parameters()]
        if cw:
            new = [f if shared else torch.zeros_like(f) for f, shared in zip(new, trunk_mask(actor))]
        self.fisher = new if self.fisher is None else [f + g for f, g in zip(self.fisher, new)]
        self.anchor = [p.detach().clone() for p in actor.parameters()]

    def loss(self, ctx, role, batch):
        if role != "actor" or self.anchor is None:
            return None
        params = ctx.networks["actor"].parameters()
        return self.config.strength * sum((f * (p - a) ** 2).sum() for f, p, a in zip(self.fisher, params, self.anchor))

    def model_size(self, ctx) -> int:
        return ctx.policy_params() * (3 if self.anchor is not None else 1)

    def state_dict(self) -> dict:
        return {"fisher": self.fisher, "anchor": self.anchor}

    def load_state_dict(self, state: dict) -> None:
        self.fisher, self.anchor = state["fisher"], state["anchor"]
