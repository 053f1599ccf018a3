"""Which bodies a task's `name: c` factor scales, and scaling them on a MuJoCo model (both backends).

scenarios.md §1.2: for every body whose name contains the key, mass *= c and the radius of one
collider *= c (HalfCheetah and Ant: `colliders[0]`; Humanoid: `colliders[-1]`). The legacy brax
0.0.13 body names no longer exist in the current models, so each domain says how its keys map
onto today's bodies (`BodyRule`), and the same rule serves brax's model and gymnasium's:

- Ant's key `Body` meant the legacy `$ Body 4/7/10/13`, the four lower legs. Both current ant
  models leave those bodies unnamed; they are the children of the `aux_k` bodies.
- Humanoid's `shin`: brax's model holds each foot sphere inside the shin body, so the shin's last
  collider is the foot (the task "tinyfeet" scales it). Gymnasium's model puts each foot in a child
  body; `folded` treats that child as part of its shin (mass and collider), as brax's model does.

Both backends build the brax System from the same modified MjModel (envs/brax_physics.py), so a
factor means one thing everywhere. Inertia is left as is: the spec scales mass and radius only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import mujoco
import numpy as np


def bodies_containing(model: mujoco.MjModel, key: str) -> list[int]:
    """Bodies whose name contains `key` (case-sensitive), the spec's matching rule."""
    return [b for b in range(model.nbody) if key in model.body(b).name]


def ant_lower_legs(model: mujoco.MjModel, key: str) -> list[int]:
    """Ant's `Body` key: the four lower legs, the children of the `aux_k` bodies; any other key by name."""
    if key != "Body":
        return bodies_containing(model, key)
    return [b for b in range(model.nbody) if model.body(int(model.body_parentid[b])).name.startswith("aux_")]


@dataclass(frozen=True)
class BodyRule:
    """How a domain's factor keys select bodies and the one collider whose radius scales.

    collider: "first_capsule" (`colliders[0]`: every matching body's first capsule; the torso's head
    capsule is its second) or "last" (`colliders[-1]`: the body's last geom, after folding).
    folded: child body name -> parent body name, for children the brax model folds into the parent.
    """

    collider: str
    match: Callable[[mujoco.MjModel, str], list[int]] = bodies_containing
    folded: Mapping[str, str] = field(default_factory=dict)

    def group(self, model: mujoco.MjModel, body: int) -> list[int]:
        """`body` and the children folded into it."""
        parent = model.body(body).name
        return [body] + [b for b in range(model.nbody) if self.folded.get(model.body(b).name) == parent]

    def collider_geom(self, model: mujoco.MjModel, bodies: list[int]) -> int | None:
        geoms = [g for b in bodies for g in range(model.ngeom) if model.geom_bodyid[g] == b]
        if self.collider == "last":
            return geoms[-1] if geoms else None
        capsules = [g for g in geoms if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_CAPSULE]
        return capsules[0] if capsules else None


def body_factors(model: mujoco.MjModel, rule: BodyRule, body_scales: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """([nbody] mass factors, [ngeom] radius factors) for `body_scales`; keys that match nothing are an error."""
    mass, radius = np.ones(model.nbody), np.ones(model.ngeom)
    for key, factor in body_scales.items():
        matched = rule.match(model, key)
        if not matched:
            raise ValueError(f"body key {key!r} matches no body of the model")
        for body in matched:
            group = rule.group(model, body)
            mass[group] *= factor
            geom = rule.collider_geom(model, group)
            if geom is not None:
                radius[geom] *= factor
    return mass, radius


def scale_model_bodies(model: mujoco.MjModel, data: mujoco.MjData, rule: BodyRule,
                       body_scales: Mapping[str, float]) -> None:
    """Scale masses and collider radii in place; collision bounds follow the radius so contacts are not
    culled, and `mj_setConst` recomputes what the masses determine (as if compiled that way)."""
    mass, radius = body_factors(model, rule, body_scales)
    model.body_mass[:] *= mass
    delta = model.geom_size[:, 0] * (radius - 1.0)
    model.geom_size[:, 0] += delta
    model.geom_rbound[:] += delta
    model.geom_aabb[:, 3:] += delta[:, None]
    mujoco.mj_setConst(model, data)
