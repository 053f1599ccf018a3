"""Convolutions with a leading seed axis: one grouped `conv2d` runs S independent convolution layers.

The S seeds' channels are stacked on the channel axis and convolved with `groups=S`, so seed s's
output channels read only seed s's input channels with seed s's filters (ARCHITECTURE.md, "The
seed axis": grouped convolutions for Atari).

Why not oneDNN on the CPU: its grouped kernel sums the weight gradient of a 4-channel, 8x8,
stride-4 layer (the Nature CNN's first) in another order than its ungrouped one (measured, torch
2.13, one thread: the gradients of seed s at S = 4 differ from those of the same seed alone in the
last bits), so seed k's training would depend on how many seeds share the process. With oneDNN
switched off, ATen convolves a grouped input one group at a time with the ungrouped kernel, which
makes seed s's numbers those of a one-seed run by construction, forward and backward (checked in
tests/baselines/test_batched_conv.py). On other devices the vendor kernel runs (cuDNN picks
kernels by problem size: there a rerun is statistically equivalent, not bit-equal; README, "Seeds").
Weights are Xavier-uniform and biases zero: the init of Dopamine's Nature CNN (the ReDo code,
`networks.py`, flax `xavier_uniform`), drawn from each seed's own stream.
"""
from __future__ import annotations

import contextlib
import math
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from plasticbench.baselines.batched import BatchedLinear
from plasticbench.baselines.seed_rng import SeedRNG


def xavier_bound(fan_in: int, fan_out: int) -> float:
    """Glorot & Bengio 2010: U(-b, b) with b = sqrt(6 / (fan_in + fan_out))."""
    return math.sqrt(6.0 / (fan_in + fan_out))


@contextlib.contextmanager
def onednn_off() -> Iterator[None]:
    """oneDNN disabled for the block (only that switch: `torch.backends.mkldnn.flags` also resets its TF32 flags)."""
    enabled = torch._C._get_mkldnn_enabled()
    torch._C._set_mkldnn_enabled(False)
    try:
        yield
    finally:
        torch._C._set_mkldnn_enabled(enabled)


@torch.no_grad()
def assign_init(weight: torch.Tensor, bias: torch.Tensor, fresh: torch.Tensor, seeds: torch.Tensor | None) -> None:
    """weight <- fresh and bias <- 0 for every seed, or only where the bool mask `seeds` [S] is set."""
    if seeds is None:
        weight.copy_(fresh)
        bias.zero_()
    else:
        weight[seeds] = fresh[seeds]
        bias[seeds] = 0.0


class _PerGroupConv(torch.autograd.Function):
    """conv2d with groups = S whose forward and backward both run with oneDNN off (module docstring)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, stride: int, groups: int) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.groups, ctx.bias_shape = stride, groups, bias.shape
        with onednn_off():
            return F.conv2d(x, weight, bias, stride=stride, groups=groups)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        mask = [ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.needs_input_grad[2]]
        with onednn_off():
            gx, gw, gb = torch.ops.aten.convolution_backward(
                grad, x, weight, list(ctx.bias_shape), [ctx.stride] * 2, [0, 0], [1, 1], False, [0, 0], ctx.groups, mask)
        return gx, gw, gb, None, None


class BatchedConv2d(nn.Module):
    """y[s] = conv2d(x[s], W[s], b[s]) for every seed s: x [S, B, C, H, W] -> [S, B, out, H', W'] (no padding)."""

    def __init__(self, num_seeds: int, in_channels: int, out_channels: int, kernel: int, stride: int, rng: SeedRNG) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.kernel, self.stride = in_channels, out_channels, kernel, stride
        self.weight = nn.Parameter(torch.empty(num_seeds, out_channels, in_channels, kernel, kernel, device=rng.device))
        self.bias = nn.Parameter(torch.empty(num_seeds, out_channels, device=rng.device))
        self.reset_parameters(rng)

    @torch.no_grad()
    def reset_parameters(self, rng: SeedRNG, seeds: torch.Tensor | None = None) -> None:
        """Xavier-uniform weights and zero biases for all seeds, or where the bool mask `seeds` [S] is set."""
        area = self.kernel * self.kernel
        bound = xavier_bound(self.in_channels * area, self.out_channels * area)
        assign_init(self.weight, self.bias, rng.uniform(*self.weight.shape[1:], low=-bound, high=bound), seeds)

    def output_size(self, size: int) -> int:
        return (size - self.kernel) // self.stride + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        S, B, C, H, W = x.shape
        stacked = x.transpose(0, 1).reshape(B, S * C, H, W)  # [B, S*C, H, W]: seed-major channels
        weight = self.weight.reshape(S * self.out_channels, C, self.kernel, self.kernel)
        if x.device.type == "cpu":
            y = _PerGroupConv.apply(stacked, weight, self.bias.reshape(-1), self.stride, S)
        else:
            y = F.conv2d(stacked, weight, self.bias.reshape(-1), stride=self.stride, groups=S)
        return y.view(B, S, self.out_channels, *y.shape[-2:]).transpose(0, 1)

    def extra_repr(self) -> str:
        return (f"seeds={self.weight.shape[0]}, in={self.in_channels}, out={self.out_channels}, "
                f"kernel={self.kernel}, stride={self.stride}")


class XavierLinear(BatchedLinear):
    """A batched linear layer with Dopamine's Nature-CNN init (Xavier-uniform weights, zero bias)."""

    @torch.no_grad()
    def reset_parameters(self, rng: SeedRNG, seeds: torch.Tensor | None = None) -> None:
        bound = xavier_bound(self.in_features, self.out_features)
        assign_init(self.weight, self.bias, rng.uniform(self.in_features, self.out_features, low=-bound, high=bound), seeds)


class XavierQHead(XavierLinear):
    """The Q-network's output layer: a product and a sum over the inputs instead of a `baddbmm`.

    Why: with few output columns (|A| = 6 for Pong, 18) and few rows (B = 1 when acting), MKL's
    `baddbmm` sums in another order at S = 1 than at S > 1 (measured, torch 2.13, one thread: e.g.
    512 -> 6 and 512 -> 18 at B = 1 differ in the last bits), so a seed's greedy action could depend
    on the seeds beside it. x[s, b, :] * W[s, :, a] summed over the last, contiguous axis is reduced
    in an order fixed by the input width alone (the 1-output form of `batched.single_output`, issue
    #17), forward and backward; it costs ~3 ms per update at S = 4, B = 32, 512 -> 18 on one thread.
    """

    def forward(self, x: torch.Tensor, columns: slice | None = None) -> torch.Tensor:
        weight, bias = (self.weight, self.bias) if columns is None else (self.weight[..., columns], self.bias[..., columns])
        return (x[:, :, None, :] * weight.transpose(1, 2)[:, None]).sum(dim=-1) + bias  # [S, B, out]


def xavier_layers(count: int):
    """A `BatchedMLP` layer factory: Xavier layers, the last (the `count`-th built) a `XavierQHead`."""
    built = iter(range(count))
    return lambda num_seeds, i, o, rng: (XavierQHead if next(built) == count - 1 else XavierLinear)(num_seeds, i, o, rng)
