"""Ant task variants of the CSP / Rewire continual scenarios (scenarios.md §1.4, Ant table).

Factors only; `envs/locomotion_variants.py` applies them on gymnasium's Ant-v5 and
`envs/brax_physics.py` on brax's ant. The variant type is HalfCheetah's (it is not specific to
HalfCheetah: body factors, gravity, friction, observation mask, action multipliers).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from plasticbench.envs.body_factors import BodyRule, ant_lower_legs
from plasticbench.envs.halfcheetah_variants import HalfCheetahVariant

ANT_BODY_RULE = BodyRule(collider="first_capsule", match=ant_lower_legs)
"""`Body` = the four lower legs (legacy `$ Body 4/7/10/13`), `colliders[0]` = their ankle capsule."""


def _disabled(name: str, zeroed: tuple[int, ...]) -> HalfCheetahVariant:
    """Actions `zeroed` multiplied by 0. Indices are the spec's, applied to the current ant's actuator order
    (hip_4, ankle_4, hip_1, ankle_1, hip_2, ankle_2, hip_3, ankle_3 in both brax's and gymnasium's xml)."""
    return HalfCheetahVariant(name=name, action_multipliers=tuple(0.0 if i in zeroed else 1.0 for i in range(8)))


ANT_VARIANTS: Mapping[str, HalfCheetahVariant] = MappingProxyType({v.name: v for v in (
    HalfCheetahVariant(name="normal"),
    HalfCheetahVariant(name="hugefoot", body_scales={"Body": 1.5}),
    HalfCheetahVariant(name="moon", gravity=0.7),
    HalfCheetahVariant(name="rainfall", friction=0.375),
    _disabled("disabled_hard1", (2, 3, 4, 5, 6, 7)),
    _disabled("disabled_hard2", (0, 1, 4, 5, 6, 7)),
    _disabled("disabled_forefeet", (0, 1, 2, 3)),
    _disabled("disabled_backfeet", (4, 5, 6, 7)),
    _disabled("disabled_first_diagonal", (0, 1, 4, 5)),
    _disabled("disabled_second_diagonal", (2, 3, 6, 7)),
    HalfCheetahVariant(name="inverted_actions", action_multipliers=(-1.0,) * 8),
)})
