"""A counter-based random stream per seed, drawn for all seeds in one vectorized call.

Why not `torch.Generator`: one generator per seed would force a Python loop over seeds on every
draw (exploration noise, reparameterized actions, replay indices), and one shared generator would
make seed s's numbers depend on how many seeds share the process. Here every number is a pure
function of (seed, draw counter, element index), hashed with the SplitMix64 finalizer
(Steele, Lea & Flood 2014), so seed s draws the same numbers whether it runs alone or among 255
others, on any device, with no loop and no host synchronization.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch

_MASK_64 = (1 << 64) - 1


def _signed(value: int) -> int:
    """Represent an unsigned 64-bit constant as the int64 torch stores."""
    value &= _MASK_64
    return value - (1 << 64) if value >= 1 << 63 else value


_GOLDEN = _signed(0x9E3779B97F4A7C15)
_MIX_1 = _signed(0xBF58476D1CE4E5B9)
_MIX_2 = _signed(0x94D049BB133111EB)


def _shift_right(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Logical right shift on int64 (torch's `>>` is arithmetic, i.e. sign-extending)."""
    return (x >> bits) & ((1 << (64 - bits)) - 1)


def splitmix64(x: torch.Tensor) -> torch.Tensor:
    """SplitMix64 finalizer on int64 tensors (wrap-around multiplication is intended)."""
    return _mix(x + _GOLDEN)


def _mix(x: torch.Tensor) -> torch.Tensor:
    """SplitMix64 after its golden-ratio increment: what `_bits` calls once it has folded the increment in."""
    x = (x ^ _shift_right(x, 30)) * _MIX_1
    x = (x ^ _shift_right(x, 27)) * _MIX_2
    return x ^ _shift_right(x, 31)


CACHED_SALTS = 1 << 16
"""Draws of at most this many numbers per seed keep their salt base (512 KiB at most): the hot draws
(noise, replay indices) are small, and a large one (a layer's fresh weights) is rare and compute-bound."""


class SeedRNG:
    """Independent random streams for S seeds; every draw advances one shared counter.

    The counter is shared because seeds run in lockstep: draw k of seed s is the same number in a
    single-seed run and in an S-seed run, which is what the seed-independence tests check.
    """

    def __init__(self, seeds: Sequence[int], device: torch.device | str = "cpu", stream: int = 0) -> None:
        self.seeds = [int(s) for s in seeds]
        self.device = torch.device(device)
        keys = torch.tensor([_signed(s * 0x632BE59BD9B4E019 + stream) for s in self.seeds], dtype=torch.int64)
        self._keys = splitmix64(keys.to(self.device))  # [S]
        self._key_column = self._keys[:, None, None]  # [S, 1, 1], broadcast against a draw's [draws, n] salts
        self._salt_bases: dict[tuple[int, int], torch.Tensor] = {}
        self.counter = 0

    @property
    def num_seeds(self) -> int:
        return len(self.seeds)

    def _bits(self, shape: tuple[int, ...], draws: int = 1) -> torch.Tensor:
        """Raw 64-bit hashes, [S, draws, *shape]: element (s, d, i) = splitmix64(key_s ^ salt(counter + d, i)),
        salt(c, i) = splitmix64(c * golden + i).

        Several draws in one call hash the same (counter, index) pairs as one call each, so the
        numbers are identical; it only saves the per-op overhead of small draws. The salts' inputs
        are formed as a cached (d * golden + i + golden) plus counter * golden, a Python integer:
        the same value modulo 2^64, in one op instead of five (issue #20)."""
        n = math.prod(shape)
        salt = _mix(self._salt_base(draws, n) + _signed(self.counter * _GOLDEN))  # [draws, n]
        self.counter += draws
        return splitmix64(self._key_column ^ salt).view(self.num_seeds, draws, *shape)

    def _salt_base(self, draws: int, n: int) -> torch.Tensor:
        """d * golden + i + golden for d < draws, i < n ([draws, n], int64, wrapping), cached per shape."""
        base = self._salt_bases.get((draws, n))
        if base is None:
            rows = torch.arange(draws, device=self.device, dtype=torch.int64)[:, None] * _GOLDEN
            base = rows + torch.arange(n, device=self.device, dtype=torch.int64)[None, :] + _GOLDEN
            if draws * n <= CACHED_SALTS:
                self._salt_bases[(draws, n)] = base
        return base

    @staticmethod
    def _unit(bits: torch.Tensor) -> torch.Tensor:
        """Uniform floats in (0, 1) from the top 24 bits."""
        return (_shift_right(bits, 40).to(torch.float32) + 0.5) / float(1 << 24)

    def uniform(self, *shape: int, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
        """Uniform floats in the open interval (low, high), [S, *shape], float32 (24 random bits)."""
        return self.uniform_draws(1, *shape, low=low, high=high)[:, 0]

    def uniform_draws(self, draws: int, *shape: int, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
        """`draws` successive `uniform(*shape)` calls in one, [S, draws, *shape]: row d holds what call d
        would have returned (same counters, same indices), for one op sequence instead of `draws`."""
        return low + (high - low) * self._unit(self._bits(shape, draws))

    def normal(self, *shape: int) -> torch.Tensor:
        """Standard normal draws, [S, *shape], by the Box-Muller transform of two uniform draws."""
        u = self._unit(self._bits(shape, draws=2))
        return torch.sqrt(-2.0 * torch.log(u[:, 0])) * torch.cos(2.0 * math.pi * u[:, 1])

    def integers(self, high: torch.Tensor | int, *shape: int) -> torch.Tensor:
        """Integers in [0, high) per seed, [S, *shape]; `high` may be a per-seed tensor [S]."""
        high_t = torch.as_tensor(high, device=self.device, dtype=torch.int64).reshape(-1, *([1] * len(shape)))
        u = _shift_right(self._bits(shape)[:, 0], 11).to(torch.float64) / float(1 << 53)
        return torch.minimum((u * high_t).to(torch.int64), high_t - 1)

    def state_dict(self) -> dict:
        return {"seeds": self.seeds, "counter": self.counter}

    def load_state_dict(self, state: dict) -> None:
        if list(state["seeds"]) != self.seeds:
            raise ValueError(f"checkpoint seeds {state['seeds']} differ from this run's seeds {self.seeds}")
        self.counter = int(state["counter"])
