"""Every task of the nine locomotion scenarios applies its factors (scenarios.md §1.2, §1.4), read back
from the built model: gymnasium's MjModel (MuJoCo backend) and brax's System (brax backend)."""
from __future__ import annotations

import numpy as np
import pytest

from plasticbench.envs.body_factors import body_factors
from plasticbench.envs.locomotion_scenarios import SCENARIOS
from plasticbench.envs.locomotion_variants import get_domain, make_mujoco_variant

TASKS = sorted({(spec.domain, v) for spec in SCENARIOS.values() for v in spec.base})
MUJOCO_TASKS = [t for t in TASKS if t[0] != "halfcheetah"]  # HalfCheetah on MuJoCo: envs/halfcheetah_variants.py


def expected_masses(domain: str, variant: str, names: list[str]) -> dict[str, float]:
    """Hand-written from §1.4: body name -> mass factor, for the bodies the task must scale."""
    legs = {"ant": [n for n in names if n == ""]}
    scales = get_domain(domain).variant(variant).body_scales
    out = {}
    for key, c in scales.items():
        matched = legs["ant"] if (domain, key) == ("ant", "Body") else [n for n in names if key in n]
        out.update({n: c for n in matched})
    return out


def test_every_scenario_task_exists_and_scenarios_follow_the_spec():
    assert len(SCENARIOS) == 9
    assert [len(s.base) * s.repeats for s in SCENARIOS.values()] == [8] * 8 + [4]
    assert SCENARIOS["humanoid_hard"].paper_budget == 2_000_000


@pytest.mark.parametrize("domain,variant", MUJOCO_TASKS)
def test_mujoco_variant_applies_its_factors(domain, variant):
    plain = make_mujoco_variant(domain, "normal").unwrapped.model
    env = make_mujoco_variant(domain, variant)
    model, spec = env.unwrapped.model, get_domain(domain).variant(variant)
    assert model.opt.gravity[2] == pytest.approx(plain.opt.gravity[2] * spec.gravity)
    assert np.allclose(model.geom_friction[:, 0], plain.geom_friction[:, 0] * spec.friction)
    mass_factor, radius_factor = body_factors(plain, get_domain(domain).rule, spec.body_scales)
    assert np.allclose(model.body_mass, plain.body_mass * mass_factor)
    assert np.allclose(model.geom_size[:, 0], plain.geom_size[:, 0] * radius_factor)
    assert (radius_factor != 1).sum() == (mass_factor != 1).sum() - (domain == "humanoid" and "shin" in spec.body_scales) * 2
    obs, _ = env.reset(seed=0)
    assert obs.shape == {"ant": (27,), "humanoid": (348,)}[domain]


def test_ant_hugefoot_scales_the_four_lower_legs_and_their_ankle_capsules():
    model = make_mujoco_variant("ant", "hugefoot").unwrapped.model
    plain = make_mujoco_variant("ant", "normal").unwrapped.model
    scaled = [model.body(b).name for b in range(model.nbody) if model.body_mass[b] != plain.body_mass[b]]
    assert scaled == [""] * 4
    grown = [model.geom(g).name for g in range(model.ngeom) if model.geom_size[g, 0] != plain.geom_size[g, 0]]
    assert grown == ["left_ankle_geom", "right_ankle_geom", "third_ankle_geom", "fourth_ankle_geom"]


def test_humanoid_tinyfeet_scales_shins_with_their_feet():
    model = make_mujoco_variant("humanoid", "tinyfeet").unwrapped.model
    plain = make_mujoco_variant("humanoid", "normal").unwrapped.model
    shrunk = {model.geom(g).name for g in range(model.ngeom) if model.geom_size[g, 0] < plain.geom_size[g, 0]}
    assert shrunk == {"right_foot", "left_foot"}
    lighter = {model.body(b).name for b in range(model.nbody) if model.body_mass[b] < plain.body_mass[b]}
    assert lighter == {"right_shin", "right_foot", "left_shin", "left_foot"}


def test_mujoco_action_multipliers_reach_the_simulator():
    env = make_mujoco_variant("ant", "disabled_hard1")
    env.reset(seed=0)
    env.step(np.ones(8))
    assert np.array_equal(env.unwrapped.data.ctrl, [1, 1, 0, 0, 0, 0, 0, 0])
    env = make_mujoco_variant("ant", "inverted_actions")
    env.reset(seed=0)
    env.step(np.full(8, 0.5))
    assert np.array_equal(env.unwrapped.data.ctrl, [-0.5] * 8)


# ----- brax: the System the jitted step receives ---------------------------------------------------
@pytest.mark.parametrize("domain,variant", TASKS)
def test_brax_system_applies_its_factors(domain, variant):
    pytest.importorskip("brax")
    from plasticbench.envs.brax_physics import base_env, system, task_physics

    env = base_env(domain)
    spec = get_domain(domain).variant(variant)
    sys = system(env, task_physics(domain, variant))
    plain = env.sys
    names = [env.sys.mj_model.body(b).name for b in range(env.sys.mj_model.nbody)]
    factors = expected_masses(domain, variant, names)
    want = np.array([factors.get(n, 1.0) for n in names[1:]]) * np.asarray(plain.link.inertia.mass)
    assert np.allclose(sys.link.inertia.mass, want)
    assert np.allclose(sys.body_mass[1:], want)
    assert np.allclose(sys.gravity, np.asarray(plain.gravity) * [1, 1, spec.gravity])
    assert np.allclose(sys.opt.gravity, sys.gravity)
    assert np.allclose(np.asarray(sys.geom_friction)[:, 0], np.asarray(plain.geom_friction)[:, 0] * spec.friction)
    changed = np.flatnonzero(~np.isclose(sys.geom_size[:, 0], plain.geom_size[:, 0]))
    scaled_bodies = int((~np.isclose(want, plain.link.inertia.mass)).sum())
    assert len(changed) == scaled_bodies  # one collider per scaled body (brax folds each foot into its shin)


def test_brax_colliders_are_the_specs():
    """HalfCheetah torso: colliders[0] (the torso capsule, not the head); Humanoid shin: colliders[-1], the foot."""
    pytest.importorskip("brax")
    from plasticbench.envs.brax_physics import base_env, system, task_physics

    for domain, variant, geoms in [("halfcheetah", "carry_stuff", {"torso"}), ("humanoid", "tinyfeet", {"right_foot", "left_foot"}),
                                   ("humanoid", "carrystuff", {"uwaist", "lwaist"}), ("ant", "hugefoot",
                                   {"left_ankle_geom", "right_ankle_geom", "third_ankle_geom", "fourth_ankle_geom"})]:
        env = base_env(domain)
        sys = system(env, task_physics(domain, variant))
        model = env.sys.mj_model
        changed = {model.geom(g).name for g in np.flatnonzero(~np.isclose(sys.geom_size[:, 0], env.sys.geom_size[:, 0]))}
        assert changed == geoms, (domain, variant)


def test_brax_masks():
    """HalfCheetah's 17-dim brax observation (q[1:], qd; gymnasium's layout) zeroes dims [0, 1, 5, 6, 9, 12, 13, 14];
    action masks and inversion are multipliers times the actuator bound (Humanoid's is 0.4)."""
    pytest.importorskip("brax")
    from plasticbench.envs.brax_physics import task_physics

    mask = np.asarray(task_physics("halfcheetah", "defective_module").obs_mask)
    assert mask.shape == (17,) and np.flatnonzero(mask == 0).tolist() == [0, 1, 5, 6, 9, 12, 13, 14]
    assert np.asarray(task_physics("halfcheetah", "moon").obs_mask).min() == 1.0
    assert np.asarray(task_physics("halfcheetah", "inverted_actions").action_scale).tolist() == [-1.0] * 6
    assert np.asarray(task_physics("ant", "disabled_forefeet").action_scale).tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert np.allclose(task_physics("humanoid", "normal").action_scale, 0.4)
