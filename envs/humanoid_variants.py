"""Humanoid task variants of the Rewire "hard" scenario (scenarios.md §1.4, Humanoid table).

Factors only; `envs/locomotion_variants.py` applies them on gymnasium's Humanoid-v5 and
`envs/brax_physics.py` on brax's humanoid.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from plasticbench.envs.body_factors import BodyRule
from plasticbench.envs.halfcheetah_variants import HalfCheetahVariant

HUMANOID_BODY_RULE = BodyRule(collider="last", folded={"right_foot": "right_shin", "left_foot": "left_shin"})
"""`colliders[-1]` (scenarios.md §1.2): the torso's `uwaist` capsule, the lwaist capsule, and for `shin`
the foot sphere, which brax's model keeps in the shin body and gymnasium's in a child body folded here."""

HUMANOID_VARIANTS: Mapping[str, HalfCheetahVariant] = MappingProxyType({v.name: v for v in (
    HalfCheetahVariant(name="normal"),
    HalfCheetahVariant(name="moon", gravity=0.15),
    HalfCheetahVariant(name="carrystuff", body_scales={"torso": 4.0, "lwaist": 4.0}),
    HalfCheetahVariant(name="tinyfeet", body_scales={"shin": 0.5}),
)})
