"""Rewire (rewire.md §3, §7 tests 4, 6, 7): the rewired actor, modes, losses, caching, rollback, model
size, seed independence and a killed run resumed to the same record."""
import pytest
import torch

from plasticbench.baselines.batched import BatchedMLP
from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.benchmark.registry import get_method
from plasticbench.methods.rewire import Rewire, mode_divergence
from plasticbench.methods.rewire_network import RewireActor
from tests.methods.rollout_stubs import PolicyProbe, ScriptedRollouts
from tests.methods.test_continual_baselines import FakeTask
from tests.methods.test_packnet import train_task
from tests.resume import killed_and_resumed
from tests.seeds import assert_matches_single_seed_runs
from tests.transitions import fill

OBS, ACT = 5, 2
CONFIG = SACConfig(hidden=(8, 8), activation="leaky_relu", batch_size=8, init_temperature=2.0)


def make(seeds=(0, 1), **options):
    method = Rewire(Rewire.Config(**options))
    learner = SAC(CONFIG, OBS, ACT, list(seeds), method)
    learner.rollouts = PolicyProbe(seeds, OBS)
    return learner, method


def test_registered_for_continual_sac_with_the_halfcheetah_forgetting_row_and_checked_config():
    assert get_method("rewire") is Rewire and Rewire.learners == {"sac"} and Rewire.settings == {"continual"}
    cfg = Rewire.Config()
    assert (cfg.modes, cfg.tau, cfg.gumbel, cfg.cycle, cfg.divergence, cfg.strength, cfg.tau_adapter) == \
        (3, 1.0, 0.1, 4, 1e-5, 100.0, 0.1)  # rewire.md §5
    for bad in ({"modes": 0}, {"tau": 0.0}, {"strength": -1.0}, {"cycle": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            Rewire(Rewire.Config(**bad))


def test_identity_wiring_is_the_plain_mlp():
    actor = RewireActor(2, (3, 5, 4, 2), "leaky_relu", SeedRNG([0, 1]), modes=3, slots=2, tau=1.0, gumbel=0.1)
    mlp = BatchedMLP(2, (3, 5, 4, 2), "leaky_relu", SeedRNG([9, 8]))
    with torch.no_grad():
        for theirs, ours in zip(mlp.layers, [*actor.hidden, actor.heads[0]]):
            theirs.weight.copy_(ours.weight)
            theirs.bias.copy_(ours.bias)
    x = torch.randn(2, 6, 3)
    assert torch.equal(actor(x), mlp(x))
    actor.sampling = True  # a training forward (straight-through, Gumbel noise, any mode) still answers the same
    actor.gumbel = 0.0
    assert torch.equal(actor(x), mlp(x))


def test_modes_are_uniform_per_seed_and_shared_by_every_layer_of_a_forward(monkeypatch):
    actor = RewireActor(2, (3, 5, 4, 2), "leaky_relu", SeedRNG([0, 1]), modes=3, slots=1, tau=1.0, gumbel=0.0)
    assert actor.draw_modes().shape == (2,)
    draws = actor.draw_modes(30_000)  # [S, N]
    for s in range(2):
        frequencies = torch.bincount(draws[s], minlength=3) / 30_000
        assert (frequencies - 1 / 3).abs().max() < 0.02
    seen = []
    original = actor.mode_scores
    monkeypatch.setattr(actor, "mode_scores", lambda l, modes: seen.append((l, modes.clone())) or original(l, modes))
    actor.sampling = True
    for _ in range(20):
        seen.clear()
        actor(torch.randn(2, 1, 3))
        assert [l for l, _ in seen] == [0, 1] and torch.equal(seen[0][1], seen[1][1])
    actor.sampling = False
    actor(torch.randn(2, 1, 3))
    assert torch.equal(seen[-1][1], actor.k_star)  # outside updates the answering mode k*


def test_divergence_is_the_summed_squared_error_and_moves_only_the_forward_mode():
    out = torch.tensor([[[1.0, 3.0], [0.0, -30.0]]])  # [S=1, B=2, (mu, log sigma) with |A| = 1]
    other = torch.tensor([[[2.0, 1.0], [25.0, 0.0]]])
    # (1-2)^2 + (2-1)^2 [log sigma clipped to 2] + (0-20)^2 [mu' clipped to 20] + (-20-0)^2
    assert mode_divergence(out, other).item() == 1 + 1 + 400 + 400
    learner, method = make(seeds=(0,), divergence=1.0, gumbel=0.0)
    fill(learner, [0])
    actor = learner.networks["actor"]
    with torch.no_grad():  # modes that differ (at a task start they are identical and L_div is 0)
        for scores in actor.scores:
            scores.copy_(torch.rand(scores.shape))
    actor.sampling = True
    batch = learner.buffer.sample(8, learner.rng)
    actor(batch.obs)
    loss = method.loss(learner, "actor", batch)
    loss.backward()
    mode = int(actor.last_modes[0])
    grads = [s.grad[0] for s in actor.scores]
    assert all(g[mode].abs().sum() > 0 for g in grads)
    assert all(g[k].abs().sum() == 0 for g in grads for k in range(3) if k != mode)


def test_a_task_slot_is_cached_restored_on_revisit_and_answers_for_its_old_tasks():
    learner, method = make(cycle=2)
    actor = learner.networks["actor"]
    train_task(learner, method, 0, [0, 1])
    with torch.no_grad():  # a recognisable wiring for slot 0
        actor.cached_0[0] = torch.arange(7, -1, -1).expand(2, 8)
    train_task(learner, method, 1, [0, 1])
    assert int(actor.slot) == 1 and method.finished == 2
    x = torch.randn(2, 3, OBS)
    with method.evaluating(learner, 0):
        assert int(actor.slot) == 0 and actor.wiring is not None
        answer = actor(x)
    assert int(actor.slot) == 1 and actor.wiring is None
    expected = actor.heads[0](torch.nn.functional.leaky_relu(
        actor.hidden[1](torch.nn.functional.leaky_relu(actor.hidden[0](x)[..., actor.cached_0[0][0]], 0.2)
                        )[..., actor.cached_1[0][0]], 0.2))
    torch.testing.assert_close(answer, expected)
    learner.start_task(2)
    method.on_task_start(learner, FakeTask(2))  # slot 0 again: every mode starts from its cached wiring
    for l, scores in enumerate(actor.scores):
        for k in range(3):
            assert torch.equal(torch.argsort(scores[:, k], -1), getattr(actor, f"cached_{l}")[0])


def test_rollback_restores_the_task_start_bit_for_bit_for_the_seeds_with_no_better_mode():
    learner, method = make()
    actor = learner.networks["actor"]
    train_task(learner, method, 0, [0, 1])
    learner.rollouts = ScriptedRollouts([1.0, 1.0], [0.5, 2.0], [0.9, 0.0], [0.2, 0.0])  # r0, then modes 0..2
    learner.start_task(1)
    method.on_task_start(learner, FakeTask(1))
    start = {name: p.detach().clone() for name, p in actor.named_parameters()}
    snapshot = [t.clone() for l in range(2) for t in actor.snapshot(l)]
    fill(learner, [0, 1])
    for _ in range(6):
        learner.update()
    moved = {name: p.detach().clone() for name, p in actor.named_parameters()}
    method.on_task_end(learner, FakeTask(1))
    assert torch.equal(actor.k_star, torch.tensor([1, 0]))  # argmax per seed
    hidden = [p for layer in actor.hidden for p in (layer.weight, layer.bias)]
    for p, w in zip(hidden, snapshot):  # seed 0: every mode below r0, rolled back onto the snapshot
        assert torch.equal(p[0], w[0])
    assert any(not torch.equal(p[1], w[1]) for p, w in zip(hidden, snapshot))  # seed 1 kept its training
    for name in ("heads.1.weight", "heads.1.bias"):
        assert torch.equal(actor.get_parameter(name)[0], start[name][0])
        assert torch.equal(actor.get_parameter(name)[1], moved[name][1])


def test_alignment_loss_starts_after_the_first_task_and_trains_the_adapters():
    learner, method = make(divergence=0.0)
    actor = learner.networks["actor"]
    assert method.loss(learner, "actor", None) is None
    train_task(learner, method, 0, [0, 1])
    learner.start_task(1)
    method.on_task_start(learner, FakeTask(1))
    with torch.no_grad():
        actor.hidden[0].weight.add_(0.1)
    method.loss(learner, "actor", None).backward()
    assert actor.adapters_out[0].grad.abs().sum() > 0 and actor.adapters_in[0].grad.abs().sum() > 0
    assert actor.hidden[0].weight.grad.abs().sum() > 0


def test_s_seeds_in_one_learner_equal_s_single_seed_learners_across_a_rollback_decision():
    (batched, _), singles = assert_matches_single_seed_runs(make, train_task)
    for i, (single, _) in enumerate(singles):
        assert torch.equal(batched.networks["actor"].k_star[i:i + 1], single.networks["actor"].k_star)


@pytest.mark.parametrize("obs,act", [(17, 6), (27, 8)])
def test_model_size_is_about_two_policies_at_rewires_width(obs, act):
    config = SACConfig(hidden=(256, 256, 256), activation="leaky_relu", buffer_size=1)
    method = Rewire()
    learner = SAC(config, obs, act, [0], method)
    one = learner.reference_policy_params()
    assert method.model_size(learner) / one == pytest.approx(1.0 + 3 * 768 / one)  # weights + K score vectors
    method.finished = 8
    learner.task_index = 7
    hidden, head = one - (256 * 2 * act + 2 * act), 256 * 2 * act + 2 * act
    expected = 2 * hidden + 4 * head + 3 * 768 + (768 + 512) + 4 * 768
    assert method.model_size(learner) == expected and round(expected / one, 1) == 2.1  # rewire.md §4


@pytest.mark.parametrize("die_at", [3, 4])  # mid-task after r0; right after a task end with a rollback test
def test_a_killed_rewire_run_resumes_to_the_same_record(tiny_config, tmp_path, monkeypatch, die_at):
    options = ("method=rewire", "suite=halfcheetah_forgetting", "seeds=2", "scale.steps_per_task=20",
               "scale.eval_every=20", "scale.checkpoint_every=10", "scale.learning_starts=10",
               "scale.episode_length=10")
    resumed, straight = killed_and_resumed(tiny_config, options, tmp_path, monkeypatch, die_at=die_at)
    assert resumed["curves"] == straight["curves"] and resumed["final_returns"] == straight["final_returns"]
    assert resumed["rollout_steps"] == straight["rollout_steps"]
    # r0 and K = 3 mode evaluations of one 10-step episode on every task after the first, none charged
    assert straight["rollout_steps"]["uncharged"] == [[0, 0]] + [[40, 40]] * 7
    assert straight["rollout_steps"]["charged"] == [[0, 0]] * 8


def test_without_rollback_r0_is_not_measured_and_modes_are_still_ranked():
    learner, method = make(rollback=False)
    train_task(learner, method, 0, [0, 1])
    learner.rollouts = ScriptedRollouts([0.0, 5.0], [1.0, 0.0], [2.0, 1.0])  # modes 0..2 only
    train_task(learner, method, 1, [0, 1])
    assert torch.equal(learner.networks["actor"].k_star, torch.tensor([2, 0]))
    assert len(learner.rollouts.script) == 0 and method.r0 is None

