"""A task's modification as data on brax's System, and the compiled batched reset and step.

Pipeline: `generalized`. It is the one brax pipeline that applies every task factor as the spec means
it: the spring and positional pipelines see a mass as mass**(1 - spring_mass_scale) (HalfCheetah
0.3: torso x4 acts as x2.6; Ant 1.0: mass changes vanish), and mjx is the slowest on CPU. A probe here
(busy machine) measured generalized HalfCheetah at ~3.7k env steps/s with 64 envs, compile ~25 s.
Brax scores are "current brax, not comparable digit for digit with published numbers" (brax 0.0.13).

A task's physics (`TaskPhysics`: gravity, link masses and the inverse weights they determine,
collider sizes, friction, observation mask, action multipliers) is an *argument* of the jitted
functions, not a constant baked into them: every task of a domain reuses one compiled step. This is
brax's domain-randomization vmap (`DomainRandomizationVmapWrapper`: swap `env.sys` inside the traced
function), with the system passed in rather than closed over. All environments of one batch share the
task's physics (in_axes None), as every environment of a task has the same modification.
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any, NamedTuple

import mujoco
import numpy as np

from plasticbench.envs.body_factors import scale_model_bodies
from plasticbench.envs.halfcheetah_variants import observation_mask
from plasticbench.envs.locomotion_variants import get_domain

PIPELINE = "generalized"
DEFAULT_EPISODE_STEPS = 1000  # scenarios.md §1.1: EpisodeWrapper(max_episode_steps=1000)
INSTALL = "pip install 'plasticbench[brax]'"
CACHE_VARIABLE = "PLASTICBENCH_JAX_CACHE"
DEFAULT_CACHE = Path.home() / ".cache" / "plasticbench" / "jax"


class MissingBackendError(ValueError):
    """A backend's optional dependency is absent (a ValueError, so the CLI prints one line and exits 2)."""


def require_brax() -> None:
    """Fail early, in one line, with the install command when jax or brax is missing."""
    try:
        import brax  # noqa: F401
        import jax  # noqa: F401
    except ImportError as error:
        raise MissingBackendError(f"the brax backend needs jax and brax ({error.name} is missing): {INSTALL}") from None


@functools.cache
def base_env(domain_name: str) -> Any:
    """brax's env of the domain on PIPELINE, built once per process (its System is the unmodified base)."""
    require_brax()
    from brax import envs

    domain = get_domain(domain_name)
    return envs.get_environment(domain.brax_name, backend=PIPELINE, **domain.brax_kwargs)


@functools.cache
def observation_size(domain_name: str) -> int:
    """brax's `env.observation_size` runs a reset op by op (minutes on CPU); tracing its shape takes ms."""
    import jax

    env = base_env(domain_name)
    return int(jax.eval_shape(env.reset, jax.random.PRNGKey(0)).obs.shape[-1])


class TaskPhysics(NamedTuple):
    """What a task changes, as arrays (a pytree: jit traces it, so a new task does not recompile)."""

    gravity: Any  # [3]
    body_mass: Any  # [nbody], world included (mjx's field); brax's links are body 1..
    body_invweight: Any  # [nbody] translational inverse weight, recomputed for the new masses
    dof_invweight: Any  # [nv]
    geom_size: Any  # [ngeom, 3]
    geom_rbound: Any  # [ngeom]
    geom_friction: Any  # [ngeom, 3]
    obs_mask: Any  # [obs]
    action_scale: Any  # [act]: the variant's multipliers x the actuator's control bound


def task_physics(domain_name: str, variant_name: str) -> TaskPhysics:
    """The variant of scenarios.md §1.2/§1.4 applied to a copy of brax's MuJoCo model, read back as arrays.

    Bodies scale with the domain's rule (envs/body_factors.py), then `mj_setConst` recomputes the
    inverse weights; gravity.z *= c; every geom's sliding friction *= c (a contact takes the max of
    its pair, so every contact's friction scales by c, the legacy global `config.friction *= c`).
    """
    import jax.numpy as jnp

    domain, env = get_domain(domain_name), base_env(domain_name)
    variant = domain.variant(variant_name)
    model = copy.deepcopy(env.sys.mj_model)
    scale_model_bodies(model, mujoco.MjData(model), domain.rule, variant.body_scales)
    model.opt.gravity[2] *= variant.gravity
    model.geom_friction[:, 0] *= variant.friction
    obs_dim = observation_size(domain_name)
    obs_mask = observation_mask(obs_dim, variant.obs_mask_fraction) if variant.obs_mask_fraction else np.ones(obs_dim)
    multipliers = np.asarray(variant.action_multipliers or (1.0,) * env.action_size)
    bound = np.asarray(env.sys.actuator.ctrl_range)[:, 1]
    return TaskPhysics(*(jnp.asarray(x, dtype=jnp.float32) for x in (
        model.opt.gravity, model.body_mass, model.body_invweight0[:, 0], model.dof_invweight0, model.geom_size,
        model.geom_rbound, model.geom_friction, obs_mask, multipliers * bound)))


def system(env: Any, physics: TaskPhysics) -> Any:
    """brax's System with the task's physics written into both its brax fields and its mjx fields."""
    return env.sys.tree_replace({
        "gravity": physics.gravity, "opt.gravity": physics.gravity,
        "body_mass": physics.body_mass, "link.inertia.mass": physics.body_mass[1:],
        "link.invweight": physics.body_invweight[1:], "dof.invweight": physics.dof_invweight,
        "geom_size": physics.geom_size, "geom_rbound": physics.geom_rbound, "geom_friction": physics.geom_friction,
    })


class EnvCarry(NamedTuple):
    """One environment's whole state: brax's State, its own key, its step in the episode, its running return."""

    state: Any
    key: Any  # [2] uint32
    t: Any  # int32
    ret: Any  # float32


def _with_system(env: Any, physics: TaskPhysics, fn: Any, *args: Any) -> Any:
    old = env.sys
    env.sys = system(env, physics)
    try:
        return fn(*args)
    finally:
        env.sys = old


def _reset_one(env: Any, physics: TaskPhysics, key: Any) -> EnvCarry:
    import jax
    import jax.numpy as jnp

    key, sub = jax.random.split(key)
    state = _with_system(env, physics, env.reset, sub)
    state = state.replace(obs=state.obs * physics.obs_mask)
    return EnvCarry(state, key, jnp.int32(0), jnp.float32(0.0))


def _step_one(env: Any, physics: TaskPhysics, carry: EnvCarry, action: Any, max_steps: Any) -> tuple[EnvCarry, dict]:
    """Step, then reset where the episode ended (a fresh random start from the env's own key)."""
    import jax
    import jax.numpy as jnp

    ctrl = jnp.clip(action, -1.0, 1.0) * physics.action_scale
    state = _with_system(env, physics, env.step, carry.state, ctrl)
    next_obs = state.obs * physics.obs_mask
    t, ret = carry.t + 1, carry.ret + state.reward
    terminated = state.done > 0
    truncated = (t >= max_steps) & ~terminated
    ended = terminated | truncated
    fresh = _reset_one(env, physics, carry.key)
    stepped = EnvCarry(state.replace(obs=next_obs), carry.key, t, ret)
    new = jax.tree.map(lambda a, b: jnp.where(ended, a, b), fresh, stepped)
    out = {"next_obs": next_obs, "reward": state.reward, "terminated": terminated, "truncated": truncated,
           "obs": new.state.obs, "episode_return": ret}
    return new, out


def enable_compile_cache() -> str | None:
    """Keep compiled steps on disk across processes; return the folder, or None where it is off.

    Each suite job is its own process, and a brax step compiles in 10-50 s on CPU (a domain's reset and
    step together: HalfCheetah 15 s, Humanoid 19 s here), most of a smoke run. JAX's persistent cache
    brings a second process's compile down to its tracing (HalfCheetah 15 -> 5.5 s, Humanoid 19 -> 7 s).
    The executable loaded is the one compiled, so numbers do not change. The folder is
    $PLASTICBENCH_JAX_CACHE (`off` disables), else ~/.cache/plasticbench/jax; a cache the user set
    for JAX itself (JAX_COMPILATION_CACHE_DIR) wins.
    """
    import jax

    if jax.config.jax_compilation_cache_dir:
        return str(jax.config.jax_compilation_cache_dir)
    folder = os.environ.get(CACHE_VARIABLE, str(DEFAULT_CACHE))
    if folder in ("", "off"):
        return None
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)  # the small helper jits are not worth a file
    return folder


@functools.cache
def compiled(domain_name: str) -> tuple[Any, Any]:
    """(reset, step) over [S, N] environments, jitted once per domain and process (and per shape)."""
    import jax

    enable_compile_cache()

    env = base_env(domain_name)
    reset = jax.vmap(jax.vmap(functools.partial(_reset_one, env), (None, 0)), (None, 0))
    step = jax.vmap(jax.vmap(functools.partial(_step_one, env), (None, 0, 0, None)), (None, 0, 0, None))
    return jax.jit(reset), jax.jit(step)
