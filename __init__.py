"""PlasticBench: a benchmark harness for plasticity and continual reinforcement-learning methods.

The repository root is this package (pyproject.toml maps ``plasticbench`` to ``.``), so the fixed
top-level folders install as ``plasticbench.benchmark``, ``plasticbench.methods``,
``plasticbench.baselines`` and ``plasticbench.envs`` and nothing claims a generic top-level name
(``baselines`` is OpenAI Baselines' import name; ``benchmark`` and ``envs`` are common in research
repositories). A method author needs only the names below::

    from plasticbench import Method, register_method
"""
from plasticbench.benchmark import run
from plasticbench.benchmark.registry import get_method, method_names, register_method
from plasticbench.methods.base import Method

__all__ = ["Method", "get_method", "method_names", "register_method", "run"]
