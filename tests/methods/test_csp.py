"""CSP (continual-baselines.md §9): the subspace at a vertex is that anchor's network, the simplex draws,
the keep/prune rule, the best-alpha table, frozen anchors, seed independence and a resumed run."""
import pytest
import torch

from plasticbench.baselines.batched import BatchedMLP
from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.benchmark.registry import get_method
from plasticbench.methods.csp import CSP, keep_new_anchor, top_points
from plasticbench.methods.csp_subspace import SubspaceActor, dirichlet
from tests.methods.rollout_stubs import PolicyProbe
from tests.methods.test_continual_baselines import FakeTask
from tests.resume import killed_and_resumed
from tests.seeds import assert_matches_single_seed_runs
from tests.transitions import fill

OBS, ACT, TASKS = 5, 2, 4
CONFIG = SACConfig(hidden=(8, 8), activation="leaky_relu", batch_size=8, init_temperature=2.0)
SMALL = {"screening_samples": 16, "screening_repeats": 4, "rollouts": 4}


def make(seeds=(0, 1), **options):
    method = CSP(CSP.Config(**{**SMALL, **options}))
    learner = SAC(CONFIG, OBS, ACT, list(seeds), method, num_tasks=TASKS)
    learner.rollouts = PolicyProbe(seeds, OBS)
    return learner, method


def train_task(learner, method, index, seeds, updates=4):
    """As the run loop: reserve, start, collect with the method's acting, update, end."""
    method.reserved_steps(learner, FakeTask(index), 1000)
    learner.start_task(index)
    method.on_task_start(learner, FakeTask(index))
    for t in range(12):
        obs = torch.stack([torch.randn(OBS, generator=torch.Generator().manual_seed(50 * s + t + 7 * index)) for s in seeds])
        action = learner.act(obs, explore=True)
        done = torch.zeros(len(seeds), dtype=torch.bool)
        learner.observe(obs, action, obs.sum(-1), obs.flip(-1), done, done)
    for _ in range(updates):
        learner.update()
    method.on_task_end(learner, FakeTask(index))


def test_registered_for_continual_sac_with_checked_config():
    assert get_method("csp") is CSP and CSP.learners == {"sac"} and CSP.settings == {"continual"}
    cfg = CSP.Config()
    assert (cfg.distribution, cfg.rollouts, cfg.improvement_threshold, cfg.screening_samples) == ("peaked", 8, 0.1, 4096)
    with pytest.raises(ValueError, match="distribution='bent'; allowed: flat, peaked"):
        CSP(CSP.Config(distribution="bent"))
    with pytest.raises(ValueError, match="rollouts"):
        CSP(CSP.Config(rollouts=1))


def test_the_policy_at_a_vertex_is_that_anchors_network():
    actor = SubspaceActor(2, (3, 6, 5, 2), "leaky_relu", SeedRNG([0, 1]), anchors=3)
    with torch.no_grad():
        for layer in actor.layers:
            layer.weight[:, 1:].normal_()
            layer.bias[:, 1:].normal_()
    actor.count.fill_(3)
    x = torch.randn(2, 4, 3)
    for anchor in range(3):
        mlp = BatchedMLP(2, (3, 6, 5, 2), "leaky_relu", SeedRNG([5]))
        with torch.no_grad():
            for theirs, ours in zip(mlp.layers, actor.layers):
                theirs.weight.copy_(ours.weight[:, anchor])
                theirs.bias.copy_(ours.bias[:, anchor])
        actor.alpha = torch.nn.functional.one_hot(torch.tensor([anchor, anchor]), 3).float()
        torch.testing.assert_close(actor(x), mlp(x), rtol=1e-5, atol=1e-6)
    actor.alpha = torch.tensor([[0.2, 0.3, 0.5]] * 2)  # first layer: mixing outputs = mixing weights (affine)
    mixed = sum(a * (torch.einsum("sbi,sio->sbo", x, actor.layers[0].weight[:, i]) + actor.layers[0].bias[:, i])
                for i, a in enumerate((0.2, 0.3, 0.5)))
    torch.testing.assert_close(actor.layers[0](x, actor.alpha[:, None].expand(-1, 4, -1)), mixed)


def test_dirichlet_points_live_on_each_seeds_simplex_and_peak_on_the_newest_anchor():
    rng, count = SeedRNG([0, 1]), torch.tensor([3, 2])
    flat = dirichlet(rng, count, 20_000, 4)
    torch.testing.assert_close(flat.sum(-1), torch.ones(2, 20_000))
    assert (flat[0, :, 3] == 0).all() and (flat[1, :, 2:] == 0).all() and (flat > 0).sum() == 20_000 * 5
    torch.testing.assert_close(flat[0].mean(0), torch.tensor([1 / 3, 1 / 3, 1 / 3, 0]), atol=0.01, rtol=0)
    peaked = dirichlet(rng, count, 20_000, 4, peaked=True)  # mean (1, 1, 9) / 11 and (1, 4) / 5
    torch.testing.assert_close(peaked[0].mean(0), torch.tensor([1 / 11, 1 / 11, 9 / 11, 0]), atol=0.01, rtol=0)
    torch.testing.assert_close(peaked[1].mean(0), torch.tensor([0.2, 0.8, 0, 0]), atol=0.01, rtol=0)
    old = dirichlet(rng, count, 100, 4, skip_newest=True)  # D2: nothing on the newest anchor
    assert (old[0, :, 2:] == 0).all() and torch.equal(old[1], torch.tensor([1.0, 0, 0, 0]).expand(100, 4))


def test_keep_or_prune_on_hand_made_returns():
    best_new = torch.tensor([110.0, 111.0, -5.0, -9.0, 0.0])
    best_old = torch.tensor([100.0, 100.0, -10.0, -10.0, 0.0])
    # 110 <= 100 * 1.1: prune; 111 > 110: keep; -5 > -11: keep; -9 > -11: keep (the rule as written); 0 <= 0: prune
    assert keep_new_anchor(best_new, best_old, 0.1).tolist() == [False, True, True, True, False]
    scores = torch.tensor([[0.1, 0.9, 0.5]])
    points = torch.eye(3)[None]
    assert torch.equal(top_points(scores, points, 2), torch.eye(3)[[1, 2]][None])


def test_a_new_anchor_starts_at_the_midpoint_trains_alone_and_old_tasks_answer_as_before():
    learner, method = make()
    actor = learner.networks["actor"]
    train_task(learner, method, 0, [0, 1])
    assert torch.equal(method.table[0], torch.tensor([[1.0, 0, 0, 0]] * 2))
    obs = torch.randn(2, 3, OBS)
    with method.evaluating(learner, 0):
        before = actor(obs)
    critic_before = [p.detach().clone() for p in learner.networks["critic"].parameters()]
    learner.start_task(1)
    method.on_task_start(learner, FakeTask(1))
    assert actor.count.tolist() == [2, 2]
    assert all(not torch.equal(p, q) for p, q in zip(learner.networks["critic"].parameters(), critic_before))  # fresh
    for layer in actor.layers:
        assert torch.equal(layer.weight[:, 1], layer.weight[:, 0])  # midpoint of one anchor = that anchor
    with method.evaluating(learner, 0):  # the table's row is zero on the new anchor: same answer
        assert torch.equal(actor(obs), before)
    anchor0 = [layer.weight[:, 0].clone() for layer in actor.layers]
    for t in range(12):
        obs1 = torch.randn(2, OBS, generator=torch.Generator().manual_seed(t))
        done = torch.zeros(2, dtype=torch.bool)
        learner.observe(obs1, learner.act(obs1, explore=True), obs1.sum(-1), obs1, done, done)
    for _ in range(4):
        learner.update()
    assert all(torch.equal(layer.weight[:, 0], w) for layer, w in zip(actor.layers, anchor0))
    assert all(not torch.equal(layer.weight[:, 1], w) for layer, w in zip(actor.layers, anchor0))
    stored = method.stored_alphas(learner)[:, :12]
    assert torch.allclose(stored.sum(-1), torch.ones(2, 12)) and (stored[..., 2:] == 0).all()


def test_the_best_alpha_table_gains_a_zero_column_and_pruning_drops_the_new_anchor():
    learner, method = make()
    actor = learner.networks["actor"]
    for task in range(3):
        train_task(learner, method, task, [0, 1])
        table = torch.stack(method.table, dim=1)  # [S, tasks, T]
        torch.testing.assert_close(table.sum(-1), torch.ones(2, task + 1))
        for s in range(2):
            assert (table[s, :, actor.count[s]:] == 0).all()  # zero beyond each seed's anchors
        if task > 0:
            decision = method.decisions[-1]
            kept = torch.tensor(decision["kept"])
            assert torch.equal(kept, keep_new_anchor(torch.tensor(decision["best_new"]),
                                                     torch.tensor(decision["best_old"]), 0.1))
    assert method.model_size(learner) == round(actor.count.float().mean().item() * learner.reference_policy_params())


def test_s_seeds_in_one_learner_equal_s_single_seed_learners():
    # Bit for bit. The seeds keep different anchor counts by task 2, which once changed the shape of
    # the subspace product and a seed's rounding with it (issue #17); AnchoredLinear now goes anchor by anchor.
    (batched, method), singles = assert_matches_single_seed_runs(make, train_task)
    for i, (single, single_method) in enumerate(singles):
        assert batched.networks["actor"].count[i] == single.networks["actor"].count[0]
        for row, single_row in zip(method.table, single_method.table):
            torch.testing.assert_close(row[i:i + 1], single_row)


@pytest.mark.parametrize("die_at", [4, 5])  # mid-task after a new anchor; right after a keep/prune decision
def test_a_killed_csp_run_resumes_to_the_same_record(tiny_config, tmp_path, monkeypatch, die_at):
    # checkpoints: task 0 at 10, 20 and its end; task 1 (10 of its 30 steps reserved) at 10 (#4) and its end (#5)
    options = ("method=csp", "suite=halfcheetah_forgetting", "seeds=2", "scale.steps_per_task=30",
               "scale.eval_every=30", "scale.checkpoint_every=10", "scale.learning_starts=5",
               "scale.episode_length=10", "method.screening_samples=32", "method.screening_repeats=4",
               "method.rollouts=2", "method.min_validation_steps=5")
    resumed, straight = killed_and_resumed(tiny_config, options, tmp_path, monkeypatch, die_at=die_at)
    assert resumed["curves"] == straight["curves"] and resumed["final_returns"] == straight["final_returns"]
    assert straight["rollout_steps"]["charged"] == [[0, 0]] + [[10, 10]] * 7  # R = 2 candidates x 5 steps
    assert 1.0 <= straight["model_size"]["actor"] <= 8.0
