"""ReDo on a convolutional Q-network (redo.md §2, "conv: output channel i"; §7 test 5).

A convolution's neuron is an output channel, scored on |h| averaged over the batch and the spatial
positions (`neuron_scores`). Recycling channel c of a conv layer draws its filter W[:, c] afresh
from the layer's own initializer (Xavier-uniform, as the ReDo code's Nature CNN), zeroes its bias
and zeroes its outgoing weights: input channel c of the next convolution, or, where the next layer
is the dense layer after the flatten, every column that reads channel c (the h*w flattened
positions c*h*w .. (c+1)*h*w - 1, channel-major as `ConvQNetwork.trunk` flattens). Dense hidden
layers are recycled as in methods/redo.py. Adam moments of every touched weight are zeroed.
"""
from __future__ import annotations

import torch

from plasticbench.baselines.batched import BatchedLinear
from plasticbench.baselines.batched_conv import BatchedConv2d
from plasticbench.baselines.nature_cnn import ConvQNetwork
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.benchmark.metrics.plasticity import dormant_masks, hidden_activations
from plasticbench.methods.redo import fresh_weight, zero_adam_moments


def unit_masks(layer: torch.nn.Module, dormant: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Masks of the incoming weights and biases of the units marked in dormant [S, H]."""
    if isinstance(layer, BatchedConv2d):  # weight [S, out, in, k, k], bias [S, out]
        return dormant[:, :, None, None, None], dormant
    return dormant[:, None, :], dormant[:, None, :]  # BatchedLinear: weight [S, in, out], bias [S, 1, out]


def input_mask(layer: torch.nn.Module, dormant: torch.Tensor) -> torch.Tensor:
    """Mask of `layer`'s weights that read the units marked in dormant [S, H] of the layer before it."""
    if isinstance(layer, BatchedConv2d):
        return dormant[:, None, :, None, None]
    if not isinstance(layer, BatchedLinear):
        raise TypeError(f"cannot recycle into a {type(layer).__name__}; expected BatchedConv2d or BatchedLinear")
    per_unit = layer.in_features // dormant.shape[1]  # 1 after a dense layer, h*w after the flatten
    return dormant.repeat_interleave(per_unit, dim=1)[:, :, None]


@torch.no_grad()
def recycle_units(incoming: torch.nn.Module, outgoing: torch.nn.Module, dormant: torch.Tensor, fresh: torch.Tensor,
                  optimizer: torch.optim.Optimizer | None = None) -> None:
    """Fresh incoming weights, zero bias and zero outgoing weights for the units in dormant [S, H]."""
    weight_in, bias_in = unit_masks(incoming, dormant)
    weight_out = input_mask(outgoing, dormant)
    incoming.weight.copy_(torch.where(weight_in, fresh, incoming.weight))
    incoming.bias.masked_fill_(bias_in, 0.0)
    outgoing.weight.masked_fill_(weight_out, 0.0)
    if optimizer is not None:
        zero_adam_moments(optimizer, incoming.weight, weight_in)
        zero_adam_moments(optimizer, outgoing.weight, weight_out)


@torch.no_grad()
def recycle_dormant_conv(net: ConvQNetwork, x: torch.Tensor, tau: float, rng: SeedRNG,
                         optimizer: torch.optim.Optimizer | None = None,
                         targets: tuple[ConvQNetwork, ...] = ()) -> torch.Tensor:
    """Score every hidden channel and neuron of `net` on x [S, B, ...] and recycle the tau-dormant
    ones (all layers scored on one forward first, as the reference code). Returns the count per seed [S]."""
    masks = dormant_masks(hidden_activations(net, x), tau)
    layers = net.layer_sequence()
    for index, dormant in enumerate(masks):
        fresh = fresh_weight(layers[index], rng)
        recycle_units(layers[index], layers[index + 1], dormant, fresh, optimizer)
        for target in targets:
            twin = target.layer_sequence()
            recycle_units(twin[index], twin[index + 1], dormant, fresh)
    return sum(m.sum(dim=1) for m in masks)
