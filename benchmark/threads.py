"""How many torch threads a run uses: `threads=N` if given, else the launcher's share of the cores, else 1.

Why one thread by default (issue #20): on a machine whose cores are shared, a 2-thread OpenMP
kernel waits on the busiest core (a 256x256 `baddbmm` took 0.7 ms with 1 thread and 20.7 ms with
2 threads beside another busy process), and the networks here (256 wide, batch 256) gain little
from a second thread even on a quiet machine. One thread is also the setting under which a seed's
record is bit-identical whatever seeds run beside it (README, "Seeds"). The way to use more cores
is more seeds per process (the seed axis) or more runs side by side (`plasticbench suite`, whose
joblib launcher gives each of its n_jobs jobs cores // n_jobs threads, benchmark/launch.py).
"""
from __future__ import annotations

from typing import Any

DEFAULT_THREADS = 1


def check_threads(value: Any) -> int | None:
    """`threads=` as given on the command line: a positive integer, or null for the default."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"threads={value!r}; allowed: a positive integer (torch threads for the run) or null "
                         f"(the launcher's share of the cores, else {DEFAULT_THREADS})")
    return value


def choose_threads(requested: int | None, launcher_share: int | None = None) -> int:
    """The run's torch thread count (module docstring)."""
    if requested is not None:
        return requested
    return launcher_share if launcher_share is not None else DEFAULT_THREADS


def use_threads(config: Any, launcher_share: int | None = None) -> int:
    """Set torch's thread count for the run `config` (its `threads` field, if it has one); returns it."""
    import torch

    threads = choose_threads(getattr(config, "threads", None), launcher_share)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
