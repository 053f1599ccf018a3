"""Plasticity metrics (metrics-plasticity.md): dormancy, activity, feature rank, weight/feature/gradient norms.

Every function takes tensors with a leading seed axis S and returns one value per seed [S]: all seeds
are measured in one batched pass (one forward, one batched `svdvals`), and no value mixes seeds.
Neurons are the units of hidden layers only, measured post-activation (metrics-plasticity.md §0);
the output layer is excluded.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Iterable, Sequence

import torch
from torch import nn

from plasticbench.baselines.divergence import finite_per_seed
from plasticbench.baselines.seed_rng import SeedRNG

if TYPE_CHECKING:
    from plasticbench.baselines.learner import Learner
    from plasticbench.baselines.replay import Batch

DORMANT_TAUS = (0.0, 0.025, 0.1)  # §D: 0 (NE), 0.025 (ReDo DQN), 0.1 (ReDo other settings)
FINAL_DORMANT_TAU = 0.1  # the record's `final_dormant_ratio`: tau = 0 is degenerate under LeakyReLU (§Pitfalls)
SRANK_DELTA = 0.01  # Kumar et al. 2021, srank_delta (§R1)
SCORE_EPS = 1e-9  # added to the layer mean in eq. D1, as in ReDo's code
DORMANCY_PROBE_SIZE = 256  # §0: dormancy and activity on ReDo's SAC statistics batch
RANK_PROBE_SIZE = 1_000  # §0: rank metrics on Plasticine's `plasticity_eval_size` (B >= feature width)
PROBE_STREAM = 0x9B0BE  # a random stream apart from the learner's (stream 1) and the environments'
EVENT_PROBE_STREAM = PROBE_STREAM + 1  # probes taken around structural events (baselines/events.py)


def neuron_scores(activations: torch.Tensor) -> torch.Tensor:
    """Sokar et al. 2023 eq. 1 (§D1): mean |h_i| over the batch / the layer mean of those means.

    activations [S, B, H] (post-activation) -> scores [S, H]; a layer's scores average to 1. A
    convolution's [S, B, C, h, w] has one neuron per channel, scored on |h| averaged over the batch
    and the spatial positions (metrics-plasticity.md §0; redo.md §2).
    """
    mean_abs = activations.abs().mean(dim=(1, *range(3, activations.dim())))  # [S, H]; conv: over space too
    return mean_abs / (mean_abs.mean(dim=1, keepdim=True) + SCORE_EPS)


def dormant_masks(activations: Sequence[torch.Tensor], tau: float) -> list[torch.Tensor]:
    """Per hidden layer, [S, H] booleans: neuron i is tau-dormant iff s_i <= tau (tau = 0: exactly 0)."""
    return [neuron_scores(h) <= tau for h in activations]


def dormant_ratio(activations: Sequence[torch.Tensor], tau: float) -> torch.Tensor:
    """Pooled over hidden layers (§D): dormant neurons / all hidden neurons, per seed [S]."""
    masks = dormant_masks(activations, tau)
    return sum(m.sum(dim=1) for m in masks).double() / sum(m.shape[1] for m in masks)


def active_neuron_ratio(activations: Sequence[torch.Tensor]) -> torch.Tensor:
    """A1 (NE §2): 1 - dormant_ratio(tau = 0); a neuron is active if non-zero on some probe sample. [S]"""
    return 1.0 - dormant_ratio(activations, 0.0)


def active_unit_fraction(activations: Sequence[torch.Tensor]) -> torch.Tensor:
    """A2, FAU (NE code `forward_with_FAU`): fraction of (sample, neuron) activations > 0, pooled. [S]"""
    active = sum((h > 0).flatten(1).sum(dim=1) for h in activations).double()
    return active / sum(h[0].numel() for h in activations)


def singular_values(features: torch.Tensor) -> torch.Tensor:
    """sigma_1 >= ... of each seed's feature matrix, no centring (§R): [S, B, d] -> [S, min(B, d)]."""
    return torch.linalg.svdvals(features.double())


def srank(features: torch.Tensor, delta: float = SRANK_DELTA) -> torch.Tensor:
    """R1 (Kumar et al. 2021): min k with sum_{i<=k} sigma_i / sum_i sigma_i >= 1 - delta, per seed [S].

    Written as #{k : cumsum_k / total < 1 - delta} + 1, Plasticine's form; an all-zero matrix has srank 0.
    """
    return srank_of(singular_values(features), delta)


def srank_of(sigma: torch.Tensor, delta: float = SRANK_DELTA) -> torch.Tensor:
    """`srank` from singular values [S, k] already computed (one SVD serves both rank metrics)."""
    total = sigma.sum(dim=1, keepdim=True)
    below = (sigma.cumsum(dim=1) / total.clamp_min(1e-300) < 1.0 - delta).sum(dim=1) + 1
    return torch.where(total[:, 0] > 0, below, torch.zeros_like(below)).double()


def effective_rank(features: torch.Tensor) -> torch.Tensor:
    """R2 (Roy & Vetterli 2007): exp of the entropy of sigma / sum(sigma), per seed [S]; 0 for a zero matrix."""
    return effective_rank_of(singular_values(features))


def effective_rank_of(sigma: torch.Tensor) -> torch.Tensor:
    """`effective_rank` from singular values [S, k] already computed."""
    total = sigma.sum(dim=1, keepdim=True)
    p = sigma / total.clamp_min(1e-300)
    entropy = -torch.where(p > 0, p * p.clamp_min(1e-300).log(), torch.zeros_like(p)).sum(dim=1)
    return torch.where(total[:, 0] > 0, entropy.exp(), torch.zeros_like(entropy))


def feature_norm(features: torch.Tensor) -> torch.Tensor:
    """F (Plasticine `compute_feature_norm`): mean over the batch of ||phi(x)||_2, per seed [S]."""
    return torch.linalg.vector_norm(features.double(), dim=2).mean(dim=1)


def weight_rms(parameters: Iterable[torch.Tensor]) -> torch.Tensor:
    """W (Plasticine `compute_weight_magnitude`): sqrt(sum theta^2 / N) over weights and biases, per seed [S]."""
    params = list(parameters)
    squares = sum(p.detach().double().flatten(1).pow(2).sum(dim=1) for p in params)
    return (squares / sum(p[0].numel() for p in params)).sqrt()


def grad_norm(parameters: Iterable[torch.Tensor]) -> torch.Tensor:
    """G: sqrt(sum_p ||dL/dtheta_p||^2) per seed [S] over the parameters holding a gradient (NaN if none).

    Per seed this equals `clip_grad_norm_(seed's params, inf)`; the seed axis is never reduced.

    Why the foreach square and the explicit running sum: one dispatch squares every gradient, and the
    per-seed sums are added in parameter order exactly as the plain `sum(g.pow(2).sum(1) ...)` adds
    them, so the bits (which records hold) are unchanged while the op count drops (issue #20).
    """
    grads = [p.grad.detach().flatten(1) for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(float("nan"))
    sums = [square.sum(dim=1) for square in torch._foreach_mul(grads, grads)]
    total = sums[0]
    for part in sums[1:]:
        total = total.add_(part)
    return total.sqrt_()


def hidden_activations(network: nn.Module, x: torch.Tensor, seeds: torch.Tensor | None = None) -> list[torch.Tensor]:
    """Post-activation outputs [S, B, H] of every hidden layer, from the network's own forward.

    A forward hook on the network's `activation` module records each call, so whatever the network
    applies before the activation (masks, LayerNorm) is included, as §0 asks; the output layer of a
    batched MLP has no activation module call and is therefore excluded. `seeds` [k] (indices)
    runs the network on those seeds' parameter slices only, for x [k, B, in]: [k, B, H] outputs.
    """
    activation = getattr(network, "activation", None)
    if not isinstance(activation, nn.Module):
        raise TypeError(f"{type(network).__name__} has no `activation` module; plasticity metrics need one "
                        "(baselines.batched.BatchedMLP and its subclasses have it)")
    outputs: list[torch.Tensor] = []
    handle = activation.register_forward_hook(lambda module, args, out: outputs.append(out))
    try:
        with torch.no_grad():
            if seeds is None:
                network(x)
            else:  # every parameter and buffer carries the leading seed axis
                state = {name: t[seeds] for name, t in [*network.named_parameters(), *network.named_buffers()]}
                torch.func.functional_call(network, state, (x,))
    finally:
        handle.remove()
    return outputs


def finite_seeds(hidden: Sequence[torch.Tensor], parameters: Sequence[torch.Tensor]) -> torch.Tensor:
    """[S] bool: seed s's activations and parameters are all finite (a diverged seed's may not be)."""
    return finite_per_seed([*hidden, *parameters], hidden[0].shape[0]).to(hidden[0].device)


def zero_where_not(finite: torch.Tensor, tensors: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Each tensor [S, ...] with the slices of non-finite seeds zeroed, so batched math (svdvals
    refuses non-finite input) runs for the others; those seeds' metrics are set to NaN afterwards."""
    return [torch.where(finite.view(-1, *[1] * (t.dim() - 1)), t, torch.zeros_like(t)) for t in tensors]


def network_metrics(hidden: Sequence[torch.Tensor], features: torch.Tensor, parameters: Iterable[torch.Tensor],
                    dormancy_size: int = DORMANCY_PROBE_SIZE) -> dict[str, torch.Tensor]:
    """Every forward-based metric of one seed-batched network (or pooled networks); values [S], NaN
    for a seed whose activations or parameters are not finite (the other seeds are unaffected).

    hidden: post-activation outputs [S, B, H] per hidden layer; features: penultimate features Phi
    [S, B, d]. Dormancy and activity use the first `dormancy_size` probe rows, ranks and the feature
    norm all B (§0: 256 for dormancy, 1,000 for ranks; dormancy counts depend on B, so it stays fixed).
    """
    params = [p.detach() for p in parameters]
    finite = finite_seeds([*hidden, features], params)
    hidden, params, (features,) = zero_where_not(finite, hidden), zero_where_not(finite, params), zero_where_not(finite, [features])
    few = [h[:, :dormancy_size] for h in hidden]
    sigma = singular_values(features)
    metrics = {f"dormant_ratio_tau{tau:g}": dormant_ratio(few, tau) for tau in DORMANT_TAUS}
    metrics.update(active_neuron_ratio=active_neuron_ratio(few), fau=active_unit_fraction(few),
                   srank=srank_of(sigma), effective_rank=effective_rank_of(sigma),
                   feature_norm=feature_norm(features), weight_rms=weight_rms(params))
    return {key: torch.where(finite, value, torch.full_like(value, math.nan)) for key, value in metrics.items()}


def probe_batch(learner: "Learner", draw: int, size: int = RANK_PROBE_SIZE, stream: int = PROBE_STREAM) -> "Batch":
    """min(size, buffer size) transitions drawn uniformly per seed from the current buffer (§0).

    The indices come from a stream of their own, positioned at `draw` (the evaluation's or the
    event's index), so probing never advances the learner's RNG (training is the same with or
    without metrics) and a resumed run draws the same probe as an uninterrupted one.
    """
    rng = SeedRNG(learner.seeds, learner.device, stream=stream)
    rng.counter = draw
    return learner.buffer.sample(min(size, learner.buffer.size), rng)


def plasticity_snapshot(learner: "Learner", probe: "Batch", dormancy_size: int = DORMANCY_PROBE_SIZE) -> dict[str, list[float]]:
    """Metric name -> [S] values for the actor, Q1, Q2 and the pooled critic on one probe batch (§0),
    or for whatever networks the learner names in `metric_networks` (DQN: its Q-network as `critic_`,
    conv channels counted as neurons).

    Inputs are what each network reads (`learner.role_inputs`: states for a policy, (s, a) for the
    critics and for BCQ's perturbation actor; §0). `critic_` pools Q1 and Q2: dormancy over the
    neurons of both, ranks of their penultimate features side by side [S, B, 2d], weight RMS over
    both. Gradient norms are those the learner recorded at each role's last update (§G: its training
    minibatch, after backward and the method's gradient surgery, before the step; NaN before the
    first update); the critic's covers Q1 and Q2, the parameters of the TD loss.
    `dormant_ratio_tau0.1` pools the hidden neurons of actor, Q1 and Q2 (the record's final dormant ratio).
    """
    x = learner.role_inputs(probe)
    networks = learner.metric_networks()  # DQN: its one Q-network, named "critic"
    hidden = {name: hidden_activations(net, x[role]) for name, (net, role) in networks.items()}
    params = {name: list(net.parameters()) for name, (net, _) in networks.items()}
    everything = [h for layers in hidden.values() for h in layers]
    if "q1" in hidden:
        hidden["critic"] = hidden["q1"] + hidden["q2"]
        params["critic"] = params["q1"] + params["q2"]
    snapshot: dict[str, torch.Tensor] = {}
    for name, layers in hidden.items():
        features = torch.cat([hidden["q1"][-1], hidden["q2"][-1]], dim=2) if name == "critic" and "q1" in hidden else layers[-1]
        for key, value in network_metrics(layers, features, params[name], dormancy_size).items():
            snapshot[f"{name}_{key}"] = value
    pooled = [h[:, :dormancy_size] for h in everything]
    finite = finite_seeds(pooled, [])
    ratio = dormant_ratio(zero_where_not(finite, pooled), FINAL_DORMANT_TAU)
    snapshot[f"dormant_ratio_tau{FINAL_DORMANT_TAU:g}"] = torch.where(finite, ratio, torch.full_like(ratio, math.nan))
    for role in ("actor", "critic"):
        norm = learner.last_grad_norms.get(role)
        snapshot[f"{role}_grad_norm"] = torch.full((learner.num_seeds,), math.nan) if norm is None else norm
    return {key: [float(v) for v in value.tolist()] for key, value in snapshot.items()}
