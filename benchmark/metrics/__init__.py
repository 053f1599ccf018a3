"""Per-seed metrics computed from a run's stored evaluation log.

Each submodule holds pure numpy functions for one family of metrics; aggregation across seeds
(IQM, bootstrap CIs) lives in ``plasticbench.benchmark.reporting.stats``. Import submodules directly, e.g.
``from benchmark.metrics.continual import continual_summary``.
"""

from plasticbench.benchmark.metrics.continual import (
    average_performance,
    continual_summary,
    forgetting,
    forward_transfer,
    model_size,
    task_auc,
)

__all__ = [
    "average_performance",
    "continual_summary",
    "forgetting",
    "forward_transfer",
    "model_size",
    "task_auc",
]
