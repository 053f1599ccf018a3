"""PlasticBench harness core. `plasticbench.benchmark.run(config)` is the stable Python face of `plasticbench run`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plasticbench.benchmark.config import RunConfig


def run(config: "RunConfig", **kwargs: Any) -> dict:
    """Run one configuration to completion (resuming a checkpoint if one exists); returns its record."""
    from plasticbench.benchmark.runner import run as _run

    return _run(config, **kwargs)
