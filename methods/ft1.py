"""FT-1: one policy fine-tuned on every task in turn, no extra term (continual-baselines.md §4).

On a single-task scenario this is the plain learner, the reference every plasticity method is
compared against; on an offline dataset, the plain BCQ or IQL. Model size 1.0.
"""
from __future__ import annotations

from plasticbench.benchmark.registry import register_method
from plasticbench.methods.base import Method


@register_method("ft1", settings={"online", "continual", "offline", "multitask"}, learners={"sac", "td3", "bcq", "iql", "dqn"})
class FT1(Method):
    """Plain fine-tuning: every hook keeps its no-op default."""
