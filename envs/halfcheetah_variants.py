"""HalfCheetah task variants of the CSP / Rewire continual scenarios, applied to gymnasium's MuJoCo model.

The variant table (scenarios-halfcheetah.md "Task variants", scenarios.md §1.4) is the single
source of truth; `apply_variant` is the MuJoCo backend of it (scenarios.md §1.2 describes
how the Brax backend applies the same factors). Results from this backend are a different
benchmark from the published Brax numbers and are labelled backend="mujoco".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import gymnasium
import mujoco
import numpy as np
from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv

HALFCHEETAH_ENV_ID = "HalfCheetah-v5"
"""The gymnasium model the variants modify (scenarios-halfcheetah.md "Two backends")."""

RESET_NOISE = 0.1
"""scenarios-halfcheetah.md, "Initial state": default joint angles and velocities plus uniform noise
in [-0.1, 0.1]. Gymnasium's HalfCheetah-v5 draws U(-0.1, 0.1) for positions but 0.1 * N(0, 1) for
velocities; `UniformResetHalfCheetah` draws both uniformly."""

UNIFORM_RESET_ENV_ID = "plasticbench/HalfCheetahUniformReset-v5"
"""HalfCheetah-v5 with the spec's reset noise, registered with gymnasium (1000-step limit as -v5)."""


class UniformResetHalfCheetah(HalfCheetahEnv):
    """HalfCheetah-v5 whose reset adds U(-RESET_NOISE, RESET_NOISE) to joint positions and velocities."""

    def reset_model(self) -> np.ndarray:
        qpos = self.init_qpos + self.np_random.uniform(-RESET_NOISE, RESET_NOISE, size=self.model.nq)
        qvel = self.init_qvel + self.np_random.uniform(-RESET_NOISE, RESET_NOISE, size=self.model.nv)
        self.set_state(qpos, qvel)
        return self._get_obs()


if UNIFORM_RESET_ENV_ID not in gymnasium.registry:
    gymnasium.register(UNIFORM_RESET_ENV_ID, entry_point=f"{__name__}:UniformResetHalfCheetah", max_episode_steps=1000)

OBS_MASK_SEED = 0
"""The mask permutation comes from the legacy NumPy RNG seeded with 0 (scenarios.md §1.2)."""


@dataclass(frozen=True)
class HalfCheetahVariant:
    """Multiplicative changes to the standard HalfCheetah; the defaults leave it unchanged.

    body_scales: substring of a body name -> factor on its mass and capsule radius.
    gravity / friction: factors on the vertical gravity and the sliding friction.
    obs_mask_fraction: fraction f of observation dims zeroed (floor(f*D) of them).
    action_multipliers: per-action factor applied before the simulator (-1 inverts, 0 cripples).
    """

    name: str
    body_scales: Mapping[str, float] = field(default_factory=dict)
    gravity: float = 1.0
    friction: float = 1.0
    obs_mask_fraction: float = 0.0
    action_multipliers: tuple[float, ...] | None = None


def _variant(name: str, **changes: object) -> HalfCheetahVariant:
    return HalfCheetahVariant(name=name, **changes)  # type: ignore[arg-type]


_ALL_BODIES = ("torso", "thigh", "shin", "foot")

HALFCHEETAH_VARIANTS: Mapping[str, HalfCheetahVariant] = MappingProxyType({
    v.name: v for v in (
        # scenarios-halfcheetah.md "Task variants" table (= scenarios.md §1.4 HalfCheetah)
        _variant("normal"),
        _variant("hugefoot", body_scales={"foot": 1.5}),
        _variant("tinyfoot", body_scales={"foot": 0.5}),
        _variant("moon", gravity=0.15),
        _variant("rainfall", friction=0.4),
        _variant("carry_stuff", body_scales={"torso": 4.0}),
        _variant("carry_stuff_hugegravity", body_scales={"torso": 4.0}, gravity=1.5),
        _variant("hugefoot_rainfall", body_scales={"foot": 1.5}, friction=0.4),
        _variant("tinyfoot_moon", body_scales={"foot": 0.5}, gravity=0.15),
        _variant("defective_module", obs_mask_fraction=0.5),
        _variant("inverted_actions", action_multipliers=(-1.0,) * 6),
        # "Other variants in the same source (for extra scenarios)"
        _variant("hugegravity", gravity=1.5),
        _variant("tinygravity", gravity=0.5),
        _variant("hugefriction", friction=1.5),
        _variant("tinyfriction", friction=0.5),
        _variant("overweight", body_scales={b: 1.5 for b in _ALL_BODIES}),
        _variant("underweight", body_scales={b: 0.75 for b in _ALL_BODIES}),
        # HalfCheetah actuators are bthigh, bshin, bfoot, fthigh, fshin, ffoot (back legs = 0,1,2)
        _variant("crippled_backlegs", action_multipliers=(0.0, 0.0, 0.0, 1.0, 1.0, 1.0)),
        _variant("crippled_forelegs", action_multipliers=(1.0, 1.0, 1.0, 0.0, 0.0, 0.0)),
    )
})


def get_variant(name: str) -> HalfCheetahVariant:
    """The variant called `name`; an unknown name is an error listing the known ones."""
    if name not in HALFCHEETAH_VARIANTS:
        raise ValueError(f"unknown HalfCheetah variant {name!r}; allowed: {sorted(HALFCHEETAH_VARIANTS)}")
    return HALFCHEETAH_VARIANTS[name]


def observation_mask(obs_dim: int, fraction: float) -> np.ndarray:
    """[D] float64 mask, 0 on the floor(fraction*D) dims a 'defective module' zeroes, else 1.

    Exactly scenarios.md §1.2: permute [0]*k + [1]*(D-k) with the legacy MT19937 RNG seeded 0.
    gymnasium's HalfCheetah-v5 has D = 17 (brax's has 18: it keeps one more torso
    quaternion component), so the zeroed dims here are [0, 1, 5, 6, 9, 12, 13, 14], not
    brax's [0, 1, 2, 5, 6, 10, 13, 14, 15]; the same rule, a different observation layout.
    """
    k = int(np.floor(fraction * obs_dim))
    pattern = np.random.RandomState(OBS_MASK_SEED).permutation([0] * k + [1] * (obs_dim - k))
    return pattern.astype(np.float64)


class ObservationMask(gymnasium.ObservationWrapper):
    """Zeroes a fixed subset of observation dims, the same subset in every episode."""

    def __init__(self, env: gymnasium.Env, mask: np.ndarray):
        super().__init__(env)
        self.mask = mask

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return observation * self.mask


class ActionMultiplier(gymnasium.ActionWrapper):
    """Multiplies each action component before it reaches the simulator.

    The env's control cost then sees the modified action, matching the spec's reward
    "minus 0.1 x squared action norm (the action after masking/inversion)".
    """

    def __init__(self, env: gymnasium.Env, multipliers: tuple[float, ...]):
        super().__init__(env)
        if len(multipliers) != env.action_space.shape[0]:
            raise ValueError(f"{len(multipliers)} action multipliers for an action space of {env.action_space.shape}")
        self.multipliers = np.asarray(multipliers, dtype=np.float64)

    def action(self, action: np.ndarray) -> np.ndarray:
        return np.asarray(action, dtype=np.float64) * self.multipliers


def scale_bodies(model: mujoco.MjModel, body_scales: Mapping[str, float]) -> None:
    """Scale mass and capsule radius of every body whose name contains a key (scenarios.md §1.2).

    Brax scales `colliders[0]` of each matching body. Every HalfCheetah body has one capsule
    except the torso, whose second capsule is the head, so only the body's first capsule
    geom is scaled. Inertia is left as is: the spec scales mass and radius only. The
    collision bounds (rbound, aabb) follow the new radius so contacts are not culled.
    """
    for body in range(model.nbody):
        name = model.body(body).name
        factor = float(np.prod([c for key, c in body_scales.items() if key in name]))
        if factor == 1.0:
            continue
        model.body_mass[body] *= factor
        capsules = [g for g in range(model.ngeom)
                    if model.geom_bodyid[g] == body and model.geom_type[g] == mujoco.mjtGeom.mjGEOM_CAPSULE]
        if capsules:
            geom = capsules[0]
            old_radius = model.geom_size[geom, 0]
            model.geom_size[geom, 0] = old_radius * factor
            delta = model.geom_size[geom, 0] - old_radius
            model.geom_rbound[geom] += delta
            model.geom_aabb[geom, 3:] += delta


def apply_variant(env: gymnasium.Env, variant: HalfCheetahVariant) -> gymnasium.Env:
    """Modify `env`'s MuJoCo model in place and add the observation/action wrappers `variant` needs.

    Gravity scales `opt.gravity[2]` and friction the sliding coefficient of every geom (MuJoCo
    takes the max over a contact pair, so this scales every contact's friction). After the
    mass change `mj_setConst` recomputes the constants derived from masses (subtree masses,
    the constraint solver's inverse weights), as if the model had been compiled that way.
    """
    model = env.unwrapped.model
    data = env.unwrapped.data
    scale_bodies(model, variant.body_scales)
    model.opt.gravity[2] *= variant.gravity
    model.geom_friction[:, 0] *= variant.friction
    if variant.body_scales:
        mujoco.mj_setConst(model, data)
    if variant.obs_mask_fraction > 0.0:
        env = ObservationMask(env, observation_mask(env.observation_space.shape[0], variant.obs_mask_fraction))
    if variant.action_multipliers is not None:
        env = ActionMultiplier(env, variant.action_multipliers)
    return env


def make_halfcheetah_variant(variant_name: str, max_episode_steps: int | None = None) -> gymnasium.Env:
    """A fresh HalfCheetah-v5 with the spec's uniform reset noise and `variant_name` applied (TimeLimit
    innermost of the wrappers)."""
    variant = get_variant(variant_name)
    env = gymnasium.make(UNIFORM_RESET_ENV_ID, max_episode_steps=max_episode_steps)
    return apply_variant(env, variant)
