"""Each HalfCheetah variant changes exactly what scenarios-halfcheetah.md says, and nothing else."""

import numpy as np
import pytest

from plasticbench.envs.halfcheetah_variants import HALFCHEETAH_VARIANTS, get_variant, make_halfcheetah_variant, observation_mask

BODIES = ["world", "torso", "bthigh", "bshin", "bfoot", "fthigh", "fshin", "ffoot"]


def _model(name):
    return make_halfcheetah_variant(name).unwrapped.model


def _rollout(env, actions, seed=5):
    obs, _ = env.reset(seed=seed)
    observations, rewards = [obs], []
    for a in actions:
        obs, r, *_ = env.step(a)
        observations.append(obs)
        rewards.append(r)
    return np.array(observations), np.array(rewards)


def _actions(n=30, dim=6, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, size=(n, dim))


def test_every_spec_variant_is_in_the_table():
    spec = ["normal", "hugefoot", "tinyfoot", "moon", "rainfall", "carry_stuff", "carry_stuff_hugegravity",
            "hugefoot_rainfall", "tinyfoot_moon", "defective_module", "inverted_actions", "hugegravity",
            "tinygravity", "hugefriction", "tinyfriction", "overweight", "underweight",
            "crippled_backlegs", "crippled_forelegs"]
    assert sorted(HALFCHEETAH_VARIANTS) == sorted(spec)
    with pytest.raises(ValueError, match="hugefoot"):
        get_variant("bigfoot")


def test_model_body_names_are_the_ones_the_keys_match():
    model = _model("normal")
    assert [model.body(b).name for b in range(model.nbody)] == BODIES


@pytest.mark.parametrize("variant, factors", [
    ("hugefoot", {"bfoot": 1.5, "ffoot": 1.5}),
    ("tinyfoot", {"bfoot": 0.5, "ffoot": 0.5}),
    ("carry_stuff", {"torso": 4.0}),
    ("underweight", {b: 0.75 for b in BODIES[1:]}),
])
def test_body_scale_touches_only_matching_bodies(variant, factors):
    base, changed = _model("normal"), _model(variant)
    expected_mass = base.body_mass * np.array([factors.get(b, 1.0) for b in BODIES])
    np.testing.assert_allclose(changed.body_mass, expected_mass, rtol=1e-12)
    # geom names equal their body names, except the floor (world) and the torso's second capsule, "head"
    geom_names = [base.geom(g).name for g in range(base.ngeom)]
    expected_radius = base.geom_size[:, 0] * np.array([factors.get(g, 1.0) for g in geom_names])
    np.testing.assert_allclose(changed.geom_size[:, 0], expected_radius, rtol=1e-12)
    np.testing.assert_array_equal(changed.geom_size[:, 1:], base.geom_size[:, 1:])
    np.testing.assert_array_equal(changed.opt.gravity, base.opt.gravity)
    np.testing.assert_array_equal(changed.geom_friction, base.geom_friction)


def test_gravity_scales_only_the_vertical_component():
    base, moon = _model("normal"), _model("moon")
    np.testing.assert_array_equal(moon.opt.gravity[:2], base.opt.gravity[:2])
    assert moon.opt.gravity[2] == pytest.approx(0.15 * base.opt.gravity[2])
    np.testing.assert_array_equal(moon.body_mass, base.body_mass)
    np.testing.assert_array_equal(moon.geom_friction, base.geom_friction)


def test_friction_scales_only_the_sliding_coefficient():
    base, rain = _model("normal"), _model("rainfall")
    np.testing.assert_allclose(rain.geom_friction[:, 0], 0.4 * base.geom_friction[:, 0], rtol=1e-12)
    np.testing.assert_array_equal(rain.geom_friction[:, 1:], base.geom_friction[:, 1:])
    np.testing.assert_array_equal(rain.body_mass, base.body_mass)
    np.testing.assert_array_equal(rain.opt.gravity, base.opt.gravity)


def test_mask_matches_the_spec_for_brax_dimension():
    # scenarios.md §1.2 hard-codes the dims for brax's D = 18
    assert np.flatnonzero(observation_mask(18, 0.5) == 0).tolist() == [0, 1, 2, 5, 6, 10, 13, 14, 15]
    assert np.flatnonzero(observation_mask(17, 0.5) == 0).tolist() == [0, 1, 5, 6, 9, 12, 13, 14]


def test_defective_module_zeroes_the_same_dims_every_episode():
    zeroed = np.flatnonzero(observation_mask(17, 0.5) == 0)
    assert len(zeroed) == 8  # floor(0.5 * 17)
    actions = _actions()
    masked_env, normal_env = make_halfcheetah_variant("defective_module", 10), make_halfcheetah_variant("normal", 10)
    masked, _ = _rollout(masked_env, actions)
    plain, _ = _rollout(normal_env, actions)
    kept = np.setdiff1d(np.arange(17), zeroed)
    assert np.all(masked[:, zeroed] == 0.0)
    np.testing.assert_array_equal(masked[:, kept], plain[:, kept])
    obs, _ = masked_env.reset()  # a second episode keeps the same mask
    assert np.all(obs[zeroed] == 0.0) and np.all(obs[kept] != 0.0)


def test_inverted_actions_equal_negated_actions_in_the_normal_env():
    actions = _actions()
    inverted = _rollout(make_halfcheetah_variant("inverted_actions"), actions)
    negated = _rollout(make_halfcheetah_variant("normal"), -actions)
    np.testing.assert_array_equal(inverted[0], negated[0])
    np.testing.assert_array_equal(inverted[1], negated[1])


def test_crippled_backlegs_zero_the_first_three_actions():
    actions = _actions()
    crippled = _rollout(make_halfcheetah_variant("crippled_backlegs"), actions)
    zeroed = _rollout(make_halfcheetah_variant("normal"), actions * np.array([0, 0, 0, 1, 1, 1]))
    np.testing.assert_array_equal(crippled[0], zeroed[0])
    np.testing.assert_array_equal(crippled[1], zeroed[1])


def test_body_scale_changes_the_dynamics():
    actions = _actions()
    normal, _ = _rollout(make_halfcheetah_variant("normal"), actions)
    heavy, _ = _rollout(make_halfcheetah_variant("carry_stuff"), actions)
    assert not np.allclose(normal[-1], heavy[-1])


def test_reset_noise_is_uniform_in_a_tenth_on_positions_and_velocities():
    """scenarios-halfcheetah.md "Initial state": U(-0.1, 0.1), not gymnasium's 0.1 N(0, 1) on velocities."""
    env = make_halfcheetah_variant("normal")
    base = env.unwrapped
    env.reset(seed=0)
    deviations = []
    for _ in range(200):
        env.reset()
        deviations.append(np.concatenate([base.data.qpos - base.init_qpos, base.data.qvel - base.init_qvel]))
    deviations = np.array(deviations)  # [200, nq + nv]
    assert np.abs(deviations).max() <= 0.1
    assert np.abs(deviations).max() > 0.099 and abs(deviations.mean()) < 0.01  # spread over the whole interval
    assert np.mean(np.abs(deviations) > 0.05) == pytest.approx(0.5, abs=0.05)  # uniform: half beyond 0.05 (normal: 62%)
