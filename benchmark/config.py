"""Configuration: a Hydra tree whose groups mirror the plug-in points, validated by dataclasses.

`method` and `learner` nodes are generated from each plug-in's own `Config` dataclass (so an
external method needs no YAML, and defaults exist in exactly one place); `suite` nodes from the
scenario catalog; `scale` from `benchmark/conf/scale/*.yaml`. Hydra's struct mode turns a typo
in any key into an error, and `resolve` re-checks every value against its dataclass.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from hydra import compose, initialize_config_module
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from omegaconf import MISSING, OmegaConf

from plasticbench.benchmark import registry
from plasticbench.benchmark.live import parse_loggers
from plasticbench.benchmark.success_evaluation import check_success_mode
from plasticbench.benchmark.threads import check_threads
from plasticbench.benchmark.config_checks import check_device, check_envs_per_seed, check_numbers, check_scale, seed_list
from plasticbench.envs.catalog import get_scenario, scenario_names
from plasticbench.envs.offline import all_suite_names, checked_scenario
from plasticbench.envs.backends import BACKENDS, check_backend_available
from plasticbench.envs.locomotion_scenarios import BRAX_SUFFIX
from plasticbench.envs.task import Scenario, Task

HARNESS_VERSION = "0.4.0"  # 0.4: scores against a measured random policy, events at every scale, the task x task matrix, seed-exact kernels, Q1/Q2 metrics on a 1,000 probe; 0.2: task-end evaluation after on_task_end, model size over a plain actor; 0.3: no normalization by a non-positive SAC-N reference
CONF_DIR = Path(__file__).resolve().parent / "conf"


@dataclass(frozen=True)
class ScaleConfig:
    """What a scale sets besides the per-task budgets (ARCHITECTURE.md, "Scales")."""

    name: str = MISSING
    eval_every: int = MISSING
    eval_episodes: int = MISSING
    episode_length: int | None = None
    learning_starts: int = MISSING  # transitions in the task's buffer before the first gradient step
    random_steps: int | None = None  # first-task env steps acting uniformly at random; None: until learning_starts
    checkpoint_every: int = MISSING
    seeds: int = MISSING
    steps_per_task: int | None = None  # overrides every task's budget at this scale (a quick look, a test)
    envs_per_seed: int = 1  # environments each seed collects from per loop step (Rewire's brax code: 128)
    learner_overrides: dict[str, Any] = field(default_factory=dict)  # learner settings this scale imposes


@dataclass
class RunSchema:
    method: Any = MISSING
    learner: Any = MISSING
    suite: Any = MISSING
    scale: Any = MISSING  # checked against ScaleConfig in `resolve`
    seeds: Any = None
    results_dir: str = "results"
    device: str = "cpu"
    dataset: Any = None  # offline suites: a D4RL-layout file instead of the dataset folder's (envs/offline.py)
    logger: Any = "none"
    success_mode: Any = None  # Continual World: "last" (default) | "any" (benchmark/success_evaluation.py)
    threads: Any = None  # torch threads; null = the launcher's share of the cores, else 1 (benchmark/threads.py)


@dataclass(frozen=True)
class RunConfig:
    """A fully resolved run: everything that defines its identity, plus where to write it."""

    method: str
    method_config: Any
    learner: str
    learner_config: Any
    suite: str
    scale: ScaleConfig
    seeds: tuple[int, ...]
    results_dir: str = "results"
    device: str = "cpu"
    loggers: tuple[str, ...] = ()  # live logging backends: where curves go while training, not what the run is
    success_mode: str | None = None  # set exactly for suites whose envs report success (Continual World)
    threads: int | None = None  # torch threads (benchmark/threads.py); like device, not part of the identity
    scenario: Scenario = field(default=None, compare=False, repr=False)

    def budget(self, task: Task) -> int:
        """Env steps for `task`: the scale's override if set, else the task's budget at this scale."""
        return self.scale.steps_per_task or task.budget(self.scale.name)

    def identity(self) -> dict:
        """The resolved configuration that names the run (results_dir, device and loggers excluded)."""
        learner_config = _without_later_defaults(dataclasses.asdict(self.learner_config), LATER_LEARNER_OPTIONS)
        method_config = _without_later_defaults(dataclasses.asdict(self.method_config), LATER_METHOD_OPTIONS)
        identity = {"harness_version": HARNESS_VERSION, "method": self.method, "method_config": method_config,
                    "learner": self.learner, "learner_config": learner_config, "suite": self.suite,
                    "scale": _without_later_defaults(dataclasses.asdict(self.scale), LATER_SCALE_OPTIONS),
                    "seeds": list(self.seeds)}
        if self.success_mode is not None:
            identity["success_mode"] = self.success_mode  # only where it exists: other runs keep their names
        if self.scenario is not None and self.scenario.offline_data is not None:
            identity["dataset_sha256"] = self.scenario.offline_data.sha256  # the data, wherever the file lies
        return identity

    @property
    def run_id(self) -> str:
        blob = json.dumps(self.identity(), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


LATER_LEARNER_OPTIONS: dict[str, Any] = {"replay_dtype": "float32", "task_id_dims": 0}
LATER_METHOD_OPTIONS: dict[str, Any] = {"variant": "salina"}
LATER_SCALE_OPTIONS: dict[str, Any] = {"envs_per_seed": 1}
"""Options added after records existed, with the default that behaves as before they existed (exact
replay storage; no hidden task one-hot; the [RN] variant of ft_l2, ewc and packnet): at that value they
stay out of a run's identity, so the runs named before them keep their names (one environment per
seed, likewise)."""


def _without_later_defaults(values: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if not (k in later and v == later[k])}


def _node(config_cls: type, name: str) -> Any:
    """A typed node from the plug-in's Config dataclass plus its `name`.

    The dataclasses are frozen (the run must not change them); the node is made writable so
    command-line overrides can set values, while keeping its types and closed key set.
    """
    node_cls = dataclasses.make_dataclass(f"{name}_node", [("name", str, field(default=name))], bases=(config_cls,), frozen=True)
    node = OmegaConf.structured(node_cls)
    OmegaConf.set_readonly(node, False)
    return node


def register_configs() -> None:
    """Fill Hydra's ConfigStore from the registries (idempotent)."""
    store = ConfigStore.instance()
    store.store(name="run_schema", node=RunSchema)
    for name in registry.method_names():
        store.store(group="method", name=name, node=_node(registry.get_method(name).Config, name))
    for name in registry.learner_names():
        store.store(group="learner", name=name, node=_node(registry.get_learner(name).Config, name))
    for name in {*scenario_names(), *all_suite_names()}:
        store.store(group="suite", name=name, node={"name": name})


def scale_names() -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / "scale").glob("*.yaml"))


def _value(overrides: Sequence[str], key: str) -> str | None:
    values = [o.split("=", 1)[1] for o in overrides if o.split("=", 1)[0].lstrip("+~") == key]
    return values[-1] if values else None


def _check_group_choice(group: str, value: str | None, allowed: list[str]) -> None:
    if value is not None and value not in allowed:
        raise registry.UnknownNameError(f"unknown {group} {value!r}; allowed: {', '.join(allowed)}")


def scenario_overrides(overrides: Sequence[str]) -> list[str]:
    """The scenario's and the scale's own hyperparameters, as overrides placed before the user's.

    A scenario carries its paper's settings (e.g. Rewire's per-scenario SAC and schedule); a scale may
    shrink the learner (smoke proves the pipeline in seconds, not the numbers); a scenario may set a
    scale's schedule (Rewire's 12,800-transition warm-up at paper scale). Order: scenario, scale, the
    scenario's scale settings, then the user's overrides, so anything set on the command line wins.
    """
    suite = _value(overrides, "suite") or "halfcheetah"
    method, learner = _value(overrides, "method") or "ft1", _value(overrides, "learner") or "sac"
    extra, scenario = [], None
    if suite not in all_suite_names():  # offline suites carry no paper overrides (their file may come from `dataset=`)
        scenario = get_scenario(suite)
        extra += [f"learner.{k}={_hydra_literal(v)}" for k, v in scenario.learner_overrides.get(learner, {}).items()]
        extra += [f"method.{k}={_hydra_literal(v)}" for k, v in scenario.method_overrides.get(method, {}).items()]
    scale = _value(overrides, "scale") or "smoke"
    scale_file = CONF_DIR / "scale" / f"{scale}.yaml"
    if scale_file.is_file():
        learner_sizes = OmegaConf.to_container(OmegaConf.load(scale_file)).get("learner_overrides") or {}
        extra += [f"learner.{k}={_hydra_literal(v)}" for k, v in learner_sizes.items()]
    if scenario is not None:
        extra += [f"scale.{k}={_hydra_literal(v)}" for k, v in scenario.scale_overrides.get(scale, {}).items()]
    return extra


def _hydra_literal(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(str(v) for v in value) + "]"
    return str(value)


def select_backend(overrides: Sequence[str]) -> list[str]:
    """`backend=brax|mujoco` picks the scenario's backend: `suite=X backend=brax` runs `X_brax`.

    The backend is part of the scenario's name (envs/locomotion_scenarios.py), so records and the
    leaderboard keep the two apart; the `backend` key itself is consumed here.
    """
    backend = _value(overrides, "backend")
    rest = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") != "backend"]
    if backend is None or backend == "mujoco":
        return rest
    if backend != "brax":
        raise ValueError(f"unknown backend {backend!r}; allowed: mujoco, brax")  # metaworld suites have one backend
    suite = _value(rest, "suite") or "halfcheetah"
    target = suite if suite.endswith(BRAX_SUFFIX) else suite + BRAX_SUFFIX
    if target not in scenario_names():
        brax = sorted(n.removesuffix(BRAX_SUFFIX) for n in scenario_names() if n.endswith(BRAX_SUFFIX))
        raise ValueError(f"suite {suite!r} has no brax backend; suites on brax: {', '.join(brax)}")
    return [o for o in rest if o.split("=", 1)[0].lstrip("+~") != "suite"] + [f"suite={target}"]


def compose_config(overrides: Sequence[str]) -> Any:
    """Compose the Hydra config for command-line style overrides, with clear errors for bad names."""
    overrides = select_backend(overrides)
    _check_group_choice("method", _value(overrides, "method"), registry.method_names())
    _check_group_choice("learner", _value(overrides, "learner"), registry.learner_names())
    offline = all_suite_names() if _value(overrides, "dataset") not in (None, "null") else []
    _check_group_choice("suite", _value(overrides, "suite"), sorted({*scenario_names(), *offline}))
    _check_group_choice("scale", _value(overrides, "scale"), scale_names())
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="plasticbench.benchmark.conf", version_base="1.3"):
        return compose(config_name="config", overrides=[*scenario_overrides(overrides), *overrides])


def _dataclass_from(config_cls: type, values: dict, what: str) -> Any:
    allowed = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ValueError(f"unknown {what} parameter(s) {unknown}; allowed: {sorted(allowed)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return config_cls(**values)


def resolve(cfg: Any) -> RunConfig:
    """Turn a composed config into a RunConfig, checking compatibility before any work starts."""
    data = OmegaConf.to_container(cfg, resolve=True)
    method_name, learner_name = data["method"].pop("name"), data["learner"].pop("name")
    method_cls = registry.get_method(method_name)
    learner_cls = registry.get_learner(learner_name)
    suite, dataset = data["suite"]["name"], data["dataset"]
    if dataset is not None and suite not in all_suite_names():
        raise ValueError(f"dataset= applies to offline suites only, not {suite!r}; allowed: {', '.join(all_suite_names())}")
    scenario = checked_scenario(suite, dataset) if suite in all_suite_names() else get_scenario(suite)
    registry.check_compatible(method_cls, learner_name, scenario.setting, scenario.name, scenario.discrete_actions)
    check_backend_available(scenario.backend)
    success_mode = check_success_mode(data["success_mode"], scenario.family)
    device = data["device"]
    check_device(device)
    check_scale(data["scale"])
    scale = _dataclass_from(ScaleConfig, data["scale"], "scale")
    check_envs_per_seed(scale.envs_per_seed, scenario)
    method_config = _dataclass_from(method_cls.Config, data["method"], f"method {method_name!r}")
    learner_config = _dataclass_from(learner_cls.Config, data["learner"], f"learner {learner_name!r}")
    check_numbers(method_config, "method")
    check_numbers(learner_config, "learner")
    return RunConfig(
        method=method_name, method_config=method_config, learner=learner_name, learner_config=learner_config,
        suite=scenario.name, scale=scale, seeds=seed_list(data["seeds"], scale.seeds),
        results_dir=str(data["results_dir"]), device=device, loggers=parse_loggers(data["logger"]), scenario=scenario,
        success_mode=success_mode, threads=check_threads(data.get("threads")))


def load_run_config(overrides: Sequence[str]) -> RunConfig:
    """Command-line overrides -> a checked RunConfig (the single entry for `run` and `suite`)."""
    return resolve(compose_config(overrides))
