"""The Nature CNN Q-network (Mnih et al. 2015) with a leading seed axis.

Pixels [S, B, stack, 84, 84] uint8 -> /255 -> conv 32x8x8 stride 4 -> ReLU -> conv 64x4x4 stride 2
-> ReLU -> conv 64x3x3 stride 1 -> ReLU -> flatten (channel-major) -> dense 512 -> ReLU -> dense
|A| (x heads). These are the layers of Dopamine's `ScalableNatureDQNNetwork` that the ReDo code
recycles (scenarios.md §5.1, redo.md §5); Dopamine's flax convolutions pad SAME (84 -> 21 -> 11
-> 11, 7,744 features), ours do not, as in the Nature paper and the PyTorch ports (84 -> 20 -> 9
-> 7, 3,136 features): the published architecture, and a third of the dense layer's weights.

One `activation` module is applied after every hidden layer, convolutional and dense, so the
plasticity metrics' forward hook (benchmark/metrics/plasticity.py `hidden_activations`) sees every
hidden layer in order: conv outputs [S, B, C, h, w] (one neuron per channel) and dense [S, B, H].
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import nn

from plasticbench.baselines.batched import BatchedMLP
from plasticbench.baselines.batched_conv import BatchedConv2d, xavier_layers
from plasticbench.baselines.learner import NetworkSpec

NATURE_KERNELS = (8, 4, 3)
NATURE_STRIDES = (4, 2, 1)

DenseFactory = Callable[[tuple[int, ...], Callable[..., nn.Module]], BatchedMLP]
"""(sizes (flat features, *hidden, |A|), layer factory) -> the dense part: a BatchedMLP or a subclass
that builds its layers with the given factory (Xavier layers and the exact Q head, baselines/batched_conv.py)."""


@dataclass(frozen=True)
class ConvNetworkSpec(NetworkSpec):
    """A pixel network's spec: `sizes` are the dense part's (flattened conv features, *hidden, out)."""

    obs_shape: tuple[int, ...] = (4, 84, 84)
    channels: tuple[int, ...] = (32, 64, 64)
    kernels: tuple[int, ...] = NATURE_KERNELS
    strides: tuple[int, ...] = NATURE_STRIDES

    def default(self, dense: DenseFactory | None = None) -> "ConvQNetwork":
        """The Q-network; `dense` builds its dense part instead of a plain MLP (a method's MLP variant)."""
        return ConvQNetwork(self.num_seeds, self.obs_shape, self.channels, self.kernels, self.strides,
                            self.sizes[1:-1], self.sizes[-1], self.rng, self.heads, dense)


def conv_output_size(size: int, kernels: Sequence[int], strides: Sequence[int]) -> int:
    """Side of the last feature map of valid (unpadded) convolutions on a size x size input."""
    for kernel, stride in zip(kernels, strides):
        size = (size - kernel) // stride + 1
        if size < 1:
            raise ValueError(f"a {kernel}x{kernel} stride-{stride} convolution does not fit the feature map; "
                             f"kernels={list(kernels)} strides={list(strides)} are too large for the input")
    return size


class ConvQNetwork(nn.Module):
    """Q-values [S, B, |A|] of every seed's own CNN on observations [S, B, *obs_shape]."""

    def __init__(self, num_seeds: int, obs_shape: Sequence[int], channels: Sequence[int], kernels: Sequence[int],
                 strides: Sequence[int], hidden: Sequence[int], num_actions: int, rng, heads: int = 1,
                 dense: DenseFactory | None = None) -> None:
        super().__init__()
        if not len(channels) == len(kernels) == len(strides):
            raise ValueError(f"conv channels={list(channels)}, kernels={list(kernels)}, strides={list(strides)} "
                             "must have the same length")
        stack, height, width = obs_shape
        ins = (stack, *channels[:-1])
        self.convs = nn.ModuleList(BatchedConv2d(num_seeds, i, o, k, s, rng)
                                   for i, o, k, s in zip(ins, channels, kernels, strides))
        side_h, side_w = conv_output_size(height, kernels, strides), conv_output_size(width, kernels, strides)
        self.flat_features = channels[-1] * side_h * side_w
        sizes, layers = (self.flat_features, *hidden, num_actions), xavier_layers(len(hidden) + 1)
        self.mlp = dense(sizes, layers) if dense is not None else BatchedMLP(num_seeds, sizes, "relu", rng, heads, layers)
        self.activation = self.mlp.activation  # the same module: one hook sees every hidden layer

    def trunk(self, obs: torch.Tensor) -> torch.Tensor:
        """Flattened conv features [S, B, C*h*w] of pixels [S, B, stack, H, W] (uint8 or float in [0, 255])."""
        x = obs.float() / 255.0
        for conv in self.convs:
            x = self.activation(conv(x))
        return x.flatten(2)

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        """Penultimate features [S, B, hidden[-1]]: what the rank metrics probe."""
        return self.mlp.features(self.trunk(obs))

    def forward(self, obs: torch.Tensor, head: int = 0) -> torch.Tensor:
        return self.mlp(self.trunk(obs), head)

    def layer_sequence(self) -> list[nn.Module]:
        """Every layer in forward order: the convolutions, the dense hidden layers, the output layer."""
        return [*self.convs, *self.mlp.layers]

    def reset_parameters(self, rng, seeds: torch.Tensor | None = None) -> None:
        for conv in self.convs:
            conv.reset_parameters(rng, seeds)
        self.mlp.reset_parameters(rng, seeds)


def flat_features(obs_shape: Sequence[int], channels: Sequence[int], kernels: Sequence[int], strides: Sequence[int]) -> int:
    """C * h * w of the last conv layer for observations of `obs_shape` (the dense part's input)."""
    return channels[-1] * math.prod(conv_output_size(side, kernels, strides) for side in obs_shape[1:])
