"""The three continual locomotion domains (HalfCheetah, Ant, Humanoid) and their MuJoCo backend.

A Domain ties a variant table to its models: gymnasium's id and keyword arguments, brax's env name
and constructor arguments, and the body rule (envs/body_factors.py). The MuJoCo backend builds the
gymnasium env, scales bodies with the domain's rule, then lets `apply_variant` of
envs/halfcheetah_variants.py do gravity, friction, the observation mask and the action multipliers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import gymnasium

from plasticbench.envs.ant_variants import ANT_BODY_RULE, ANT_VARIANTS
from plasticbench.envs.body_factors import BodyRule, scale_model_bodies
from plasticbench.envs.halfcheetah_variants import HALFCHEETAH_VARIANTS, HalfCheetahVariant, apply_variant
from plasticbench.envs.humanoid_variants import HUMANOID_BODY_RULE, HUMANOID_VARIANTS


@dataclass(frozen=True)
class Domain:
    """One locomotion domain; the kwargs make both models match scenarios.md §1.3."""

    name: str
    variants: Mapping[str, HalfCheetahVariant]
    rule: BodyRule
    gym_id: str
    brax_name: str
    gym_kwargs: Mapping[str, Any] = field(default_factory=dict)
    brax_kwargs: Mapping[str, Any] = field(default_factory=dict)

    def variant(self, name: str) -> HalfCheetahVariant:
        if name not in self.variants:
            raise ValueError(f"unknown {self.name} variant {name!r}; allowed: {sorted(self.variants)}")
        return self.variants[name]


DOMAINS: Mapping[str, Domain] = MappingProxyType({d.name: d for d in (
    Domain("halfcheetah", HALFCHEETAH_VARIANTS, BodyRule(collider="first_capsule"), "HalfCheetah-v5", "halfcheetah"),
    # Ant: 27-dim observation without contact forces (§1.3); healthy z range (0.2, 1.0) is both models' default.
    Domain("ant", ANT_VARIANTS, ANT_BODY_RULE, "Ant-v5", "ant", gym_kwargs={"include_cfrc_ext_in_observation": False}),
    # Humanoid: terminate outside z in [0.8, 2.1] (§1.3); weights 1.25 / 0.1 / 5.0 are both models' defaults.
    Domain("humanoid", HUMANOID_VARIANTS, HUMANOID_BODY_RULE, "Humanoid-v5", "humanoid",
           gym_kwargs={"healthy_z_range": (0.8, 2.1)}, brax_kwargs={"healthy_z_range": (0.8, 2.1)}),
)})


def get_domain(name: str) -> Domain:
    if name not in DOMAINS:
        raise ValueError(f"unknown domain {name!r}; allowed: {sorted(DOMAINS)}")
    return DOMAINS[name]


def make_mujoco_variant(domain_name: str, variant_name: str, max_episode_steps: int | None = None) -> gymnasium.Env:
    """A fresh gymnasium env of `domain_name` with the variant applied. Module-level so tasks pickle."""
    domain = get_domain(domain_name)
    variant = domain.variant(variant_name)
    env = gymnasium.make(domain.gym_id, max_episode_steps=max_episode_steps, **domain.gym_kwargs)
    scale_model_bodies(env.unwrapped.model, env.unwrapped.data, domain.rule, variant.body_scales)
    return apply_variant(env, dataclasses.replace(variant, body_scales={}))
