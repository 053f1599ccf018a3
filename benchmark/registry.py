"""Where methods and learners are found by name.

Built-in methods register with `@register_method` in their module under `methods/`; an external
package adds its own through the entry-point group `plasticbench.methods` (each entry point names a
module or a Method subclass; importing it is enough to register). Compatibility declarations
(learners and settings a method supports) drive the suite grid and the early errors.
"""
from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points
from typing import Callable, Iterable

from plasticbench.methods.base import Method

ENTRY_POINT_GROUP = "plasticbench.methods"
SETTINGS = frozenset({"online", "continual", "offline", "multitask", "discrete"})
LEARNERS = {"sac": "plasticbench.baselines.sac:SAC", "td3": "plasticbench.baselines.td3:TD3",
            "bcq": "plasticbench.baselines.bcq:BCQ", "iql": "plasticbench.baselines.iql:IQL",
            "dqn": "plasticbench.baselines.dqn:DQN"}

_METHODS: dict[str, type[Method]] = {}
_discovered = False


class UnknownNameError(ValueError):
    """A name that is not registered; the message lists the allowed names."""


def register_method(name: str, *, settings: Iterable[str], learners: Iterable[str]) -> Callable[[type[Method]], type[Method]]:
    """Class decorator: make `cls` available as `method=name` for the given learners and settings."""
    settings, learners = frozenset(settings), frozenset(learners)
    if not settings <= SETTINGS:
        raise ValueError(f"method {name!r}: unknown settings {sorted(settings - SETTINGS)}; allowed: {sorted(SETTINGS)}")

    def decorate(cls: type[Method]) -> type[Method]:
        if not issubclass(cls, Method):
            raise TypeError(f"method {name!r} must subclass methods.base.Method")
        existing = _METHODS.get(name)
        if existing is not None and existing is not cls and existing.__qualname__ != cls.__qualname__:
            raise ValueError(f"method name {name!r} is already registered by {existing.__module__}.{existing.__qualname__}")
        cls.name, cls.settings, cls.learners = name, settings, learners
        _METHODS[name] = cls
        return cls

    return decorate


def _discover() -> None:
    """Import every built-in method module, then every entry point, once."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    from plasticbench import methods

    for info in pkgutil.iter_modules(methods.__path__):
        if info.name != "base":
            importlib.import_module(f"plasticbench.methods.{info.name}")
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        entry.load()


def method_names() -> list[str]:
    _discover()
    return sorted(_METHODS)


def get_method(name: str) -> type[Method]:
    _discover()
    if name not in _METHODS:
        raise UnknownNameError(f"unknown method {name!r}; allowed: {', '.join(sorted(_METHODS))}")
    return _METHODS[name]


def learner_names() -> list[str]:
    return sorted(LEARNERS)


def get_learner(name: str) -> type:
    if name not in LEARNERS:
        raise UnknownNameError(f"unknown learner {name!r}; allowed: {', '.join(sorted(LEARNERS))}")
    module, attr = LEARNERS[name].split(":")
    return getattr(importlib.import_module(module), attr)


def check_compatible(method: type[Method], learner: str, setting: str, suite: str = "", discrete: bool = False) -> None:
    """Raise before any work if `method` does not declare `learner` and `setting`, or the learner cannot
    act in the suite (`discrete`: the suite's actions are indices, Atari)."""
    if learner not in method.learners:
        raise ValueError(f"method {method.name!r} does not support learner {learner!r}; it supports: {', '.join(sorted(method.learners))}")
    where = f" (suite {suite!r})" if suite else ""
    if setting not in method.settings:
        raise ValueError(f"method {method.name!r} does not support the {setting!r} setting{where}; it supports: {', '.join(sorted(method.settings))}")
    if not learner_fits(learner, setting, discrete):
        fitting = [name for name in learner_names() if learner_fits(name, setting, discrete)]
        if get_learner(learner).offline != (setting == "offline"):
            kind = "offline (it trains from a dataset only)" if get_learner(learner).offline else "online"
            raise ValueError(f"learner {learner!r} is {kind} and cannot run the {setting!r} setting{where}; learners for it: {', '.join(fitting)}")
        kind = "discrete (it acts with action indices)" if get_learner(learner).discrete else "continuous"
        actions = "discrete" if discrete else "continuous"
        raise ValueError(f"learner {learner!r} is {kind} and cannot act in a suite with {actions} actions{where}; "
                         f"learners for it: {', '.join(fitting) or '(none registered)'}")


def learner_fits(learner: str, setting: str, discrete: bool = False) -> bool:
    """Offline learners run exactly the offline setting, every other learner every other setting; a
    discrete learner runs exactly the suites with discrete actions."""
    cls = get_learner(learner)
    return cls.offline == (setting == "offline") and cls.discrete == discrete


def is_compatible(method: type[Method], learner: str, setting: str, discrete: bool = False) -> bool:
    return learner in method.learners and setting in method.settings and learner_fits(learner, setting, discrete)
