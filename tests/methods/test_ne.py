"""NE (ne.md §7): masks hold, growth and pruning pick what the spec says, ER topology, schedule, review, seeds."""
import math
from types import SimpleNamespace

import pytest
import torch

from plasticbench.baselines.replay import ReplayBuffer
from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.baselines.td3 import TD3, TD3Config
from plasticbench.methods.ne import NE
from plasticbench.methods.pi import PlasticityInjection
from plasticbench.methods.redo import ReDo
from plasticbench.methods.reset import Reset
from plasticbench.methods.ne_topology import (code_gate, cosine_grow_rate, erdos_renyi_densities, grow_connections, initial_mask,
                                 review_indices)
from tests.seeds import assert_seed_matches
from tests.transitions import fill

OBS, ACT = 4, 2


def make(config, seeds=(0, 1), cls=TD3, learner_config=None):
    method = NE(config)
    learner = cls(learner_config or TD3Config(hidden=(16, 16), batch_size=8), OBS, ACT, list(seeds), method,
                  task_budgets=[100_000])
    fill(learner, seeds)
    method.init_topology(learner)
    return learner, method


def test_masked_weights_get_no_gradient_and_stay_zero():
    learner, method = make(NE.Config(grow_interval=1000, experience_review=False))
    checked = []
    for role, optimizer in learner.optimizers.items():
        def checked_step(role=role, step=optimizer.step):  # the gradient Adam sees, at the moment it steps
            for layer, mask in zip(method.weights(learner, role), method.masks[role]):
                assert (layer.weight.grad[~mask] == 0).all() and (layer.weight.grad[mask] != 0).any(), role
            checked.append(role)
            return step()
        optimizer.step = checked_step
    for _ in range(5):
        learner.update()
        for role in ("actor", "critic"):
            for target in (False, True):
                for layer, mask in zip(method.weights(learner, role, target), method.masks[role]):
                    assert (layer.weight[~mask] == 0).all(), (role, target)
                    assert (layer.weight[mask] != 0).any()
    assert checked.count("critic") == 5 and checked.count("actor") == 3


def test_initial_density_is_erdos_renyi():
    shapes = [(17, 64), (64, 64), (64, 6)]
    densities = erdos_renyi_densities(shapes, 0.8)
    sizes = [i * o for i, o in shapes]
    assert sum(d * n for d, n in zip(densities, sizes)) == pytest.approx(0.2 * sum(sizes))
    assert all(0 < d <= 1 for d in densities)
    # d_l proportional to (n_in + n_out) / (n_in n_out) among sparse layers
    assert densities[0] / densities[1] == pytest.approx((81 / (17 * 64)) / (128 / 64 ** 2))
    assert erdos_renyi_densities([(2, 2), (100, 100)], 0.5)[0] == 1.0  # would exceed 1 -> dense, eps re-solved
    weight = torch.randn(2, 17, 64)
    mask = initial_mask(weight, densities[0])
    assert mask.flatten(1).sum(1).tolist() == [round(densities[0] * 17 * 64)] * 2
    for s in range(2):
        assert weight[s].abs()[mask[s]].min() >= weight[s].abs()[~mask[s]].max()  # largest |w| kept ([C])


def test_learner_masks_follow_er_densities():
    learner, method = make(NE.Config(initial_sparsity=0.8))
    layers = method.weights(learner, "actor")
    densities = erdos_renyi_densities([(l.in_features, l.weight.shape[2]) for l in layers], 0.8)
    for layer, mask, d in zip(layers, method.masks["actor"], densities):
        assert mask.flatten(1).sum(1).tolist() == [round(d * mask[0].numel())] * 2


def test_grow_connections_picks_largest_gradients_among_inactive():
    mask = torch.tensor([[[True, False, False], [False, True, False]]] * 2)  # [2, 2, 3]
    grad = torch.tensor([[[9.0, 1.0, -5.0], [3.0, 8.0, 2.0]], [[9.0, -4.0, 1.0], [3.0, 8.0, 2.0]]])
    new = grow_connections(mask, grad, torch.tensor([2, 1]))
    assert new[0].nonzero().tolist() == [[0, 2], [1, 0]]  # |G| 5 and 3; the active 9 and 8 are not candidates
    assert new[1].nonzero().tolist() == [[0, 1]]


def test_method_growth_adds_planned_count_of_top_gradient_connections():
    learner, method = make(NE.Config(grow_rate=0.25, initial_sparsity=0.8))
    layers = method.weights(learner, "critic")
    before = [m.clone() for m in method.masks["critic"]]
    grads = [torch.randn(l.weight.shape, generator=torch.Generator().manual_seed(i)) for i, l in enumerate(layers)]
    method.steps["critic"] = 1
    grown = method.grow(learner, "critic", grads)["grown"]
    total = 0
    for layer, old, new, grad in zip(layers, before, method.masks["critic"], grads):
        for s in range(2):
            budget = math.floor(old[s].numel() - old[s].sum().item())  # final_sparsity = 0: grow to dense
            n = math.floor(0.25 * budget)
            added = new[s] & ~old[s]
            assert added.sum().item() == n and (new[s] >= old[s]).all()
            expected = grad[s].abs().masked_fill(old[s], -1).flatten().topk(n).indices
            assert sorted(added.flatten().nonzero()[:, 0].tolist()) == sorted(expected.tolist())
            assert (layer.weight[s][added] == 0).all()  # zero init
            total += n
    assert grown.sum().item() == total


def test_pruning_removes_only_dormant_neurons_within_the_bound():
    learner, method = make(NE.Config(initial_sparsity=0.0, prune_upper_bound=2))
    actor = learner.networks["actor"]
    with torch.no_grad():
        for layer in actor.layers[:-1]:
            layer.bias.fill_(10.0)
        actor.layers[0].bias[0, 0, [1, 3, 4]] = -1e3  # seed 0: three dormant neurons, bound 2
    x = learner.buffer.sample(8, SeedRNG([0, 1], stream=9)).obs
    pruned = method.prune_dormant(learner, "actor", x)
    assert pruned.tolist() == [2, 0]
    first, second = method.masks["actor"][0], method.masks["actor"][1]
    dead = [1, 3]  # lowest indices first
    assert (~first[0][:, dead]).all() and (~second[0][dead, :]).all()
    assert first[0][:, [0, 2, 4, 5]].all() and second[0][[0, 2, 4, 5], :].all()  # neuron 4 stays (bound)
    assert first[1].all() and second[1].all() and method.masks["actor"][2].all()
    assert (actor.layers[0].bias[0, 0, dead] == 0).all()
    assert (actor.layers[0].weight[0][:, dead] == 0).all() and (actor.layers[1].weight[0][dead, :] == 0).all()


def test_pruning_bound_counts_only_neurons_with_incoming_connections():
    """Issue #10: four dormant neurons, U = 2, three events -> all four pruned (2, 2, then 0); a pruned
    neuron stays dormant and must not use up the bound again."""
    learner, method = make(NE.Config(initial_sparsity=0.0, prune_upper_bound=2))
    actor = learner.networks["actor"]
    with torch.no_grad():
        for layer in actor.layers[:-1]:
            layer.bias.fill_(10.0)
        actor.layers[0].bias[:, 0, [1, 3, 4, 6]] = -1e3  # four dormant neurons in every seed
    x = learner.buffer.sample(8, SeedRNG([0, 1], stream=9)).obs
    counts = [method.prune_dormant(learner, "actor", x).tolist() for _ in range(3)]
    assert counts == [[2, 2], [2, 2], [0, 0]]
    alive = method.masks["actor"][0].any(dim=1)  # [S, H]
    assert (~alive[:, [1, 3, 4, 6]]).all() and alive.sum(dim=1).tolist() == [16 - 4] * 2


def test_growth_ends_then_constant_density_rigl_updates():
    """ne.md §2 "End of growth": once a growth step reaches the target density, the next events drop the
    floor(|M_l| zeta'_t) smallest-|w| connections and grow as many by |G| (just-dropped ones included,
    [C]), zeta' = 0.2 on a clock restarted at 0; the density stays constant."""
    learner, method = make(NE.Config(grow_rate=1.0, final_sparsity=0.5, experience_review=False))
    layers = method.weights(learner, "critic")
    grads = lambda seed: [torch.randn(l.weight.shape, generator=torch.Generator().manual_seed(seed + i))
                          for i, l in enumerate(layers)]
    method.steps["critic"] = 1
    method.grow(learner, "critic", grads(0))  # rate 1: the whole budget in one event
    assert method.reached["critic"].all()
    method.growth_end["critic"] = torch.tensor([2, 2])  # what after_update records at the next event
    method.steps["critic"] = 2
    growing, rigl = method.phases(learner, "critic")
    assert rigl.all() and not growing.any()
    with torch.no_grad():
        for i, layer in enumerate(layers):
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=torch.Generator().manual_seed(50 + i)))
    weights, before, g = [l.weight.detach().clone() for l in layers], [m.clone() for m in method.masks["critic"]], grads(9)
    counts = method.grow(learner, "critic", g, growing, rigl)
    total = 0
    for old, new, w, grad in zip(before, method.masks["critic"], weights, g):
        for s in range(2):
            n = math.floor(old[s].sum().item() * 0.2)  # zeta'_0 = 0.2
            drop = torch.zeros(old[s].numel(), dtype=torch.bool)
            drop[w[s].abs().masked_fill(~old[s], math.inf).flatten().topk(n, largest=False).indices] = True
            candidates = ~old[s].flatten() | drop
            grow = torch.zeros_like(drop)
            grow[grad[s].abs().flatten().masked_fill(~candidates, -1).topk(n).indices] = True
            assert torch.equal(new[s].flatten(), (old[s].flatten() & ~drop) | grow)
            total += n
    assert counts["dropped"].sum().item() == counts["grown"].sum().item() == total


def test_training_switches_to_rigl_after_growth_and_keeps_the_density():
    learner, method = make(NE.Config(grow_rate=1.0, grow_interval=2, end=1000, experience_review=False))
    densities = []
    for _ in range(8):
        learner.update()
        densities.append(sum(m.flatten(1).sum(1) for m in method.masks["critic"]).tolist())
    assert method.growth_end["critic"].tolist() == [4, 4]  # grown at critic step 2, RigL from the event at step 4
    event = method.last_event["critic"]  # step 8: RigL on the clock since step 4
    assert (event["dropped"] > 0).all() and torch.equal(event["dropped"], event["grown"]) and (event["pruned"] == 0).all()
    assert densities[3] == densities[-1]  # constant density from the switch on
    assert learner.events.per_task() == [[6, 6]]  # critic steps 2, 4, 6, 8 and actor steps 2, 4 (updates 3, 7)


def test_schedules_give_the_paper_numbers_at_paper_scale_and_fire_at_smoke():
    """methods/schedule.py: at 1M env steps per task the published numbers, at 300 the same proportions."""
    paper, smoke = SimpleNamespace(task_budget=1_000_000, run_budget=1_000_000, num_tasks=1), \
        SimpleNamespace(task_budget=300, run_budget=300, num_tasks=1)
    short = SimpleNamespace(task_budget=50_000, run_budget=50_000, num_tasks=1)
    ne = NE()
    assert (ne.interval(short), ne.end(short), Reset().period(short), ReDo().period(short),
            PlasticityInjection().injection_step(short)) == (10, 48_750, 10_000, 50, 25_000)
    assert (ne.interval(paper), ne.end(paper)) == (100, 975_000)
    assert (ne.interval(smoke), ne.end(smoke)) == (10, 292)
    assert (Reset().period(paper), Reset().period(smoke)) == (200_000, 60)
    assert (ReDo().period(paper), ReDo().period(smoke)) == (1_000, 1)
    pi = PlasticityInjection()
    assert (pi.injection_step(paper), pi.injection_step(smoke)) == (500_000, 150)
    continual = SimpleNamespace(task_budget=1_000_000, run_budget=12_000_000, num_tasks=12)
    assert ne.end(continual) == 11_700_000 and pi.injection_step(continual) is None


def test_cosine_schedule_and_shutdown():
    assert cosine_grow_rate(0, 100, 0.5) == pytest.approx(0.5)
    assert cosine_grow_rate(50, 100, 0.5) == pytest.approx(0.25)
    assert cosine_grow_rate(100, 100, 0.5) == 0.0 and cosine_grow_rate(150, 100, 0.5) == 0.0
    learner, method = make(NE.Config(grow_interval=2, end=5, experience_review=False, grow_rate=0.5))
    events = []
    for _ in range(8):
        learner.update()
        events.append("critic" in method.last_event)
        method.last_event.clear()
    assert events == [False, True, False, True, False, False, False, False]  # critic steps 2, 4; none at t >= 5


def test_review_indices_lie_in_the_oldest_quarter_of_a_wrapped_buffer():
    u = SeedRNG([0, 1]).uniform(4096)
    index = review_indices(u, size=1000, pointer=300, capacity=1000, fraction=0.25)
    assert index.min() >= 300 and index.max() < 550 and len(index.unique()) == 250


def test_sample_hook_reviews_only_the_oldest_quarter():
    config = NE.Config(er_mode="dormant_slope", er_max_prob=1.0)  # slope 0 -> review probability 1
    learner, method = make(config, learner_config=TD3Config(hidden=(16, 16), batch_size=64, buffer_size=40))
    buffer = learner.buffer
    buffer.clear()
    for t in range(50):  # wraps: holds t = 10..49, oldest quarter t = 10..19
        buffer.add(torch.full((2, OBS), float(t)), torch.zeros(2, ACT), torch.zeros(2), torch.zeros(2, OBS), torch.zeros(2))
    batch = method.sample(learner, buffer, 64)
    assert batch.obs.min() >= 10 and batch.obs.max() < 20


def test_code_gate_formula():
    fau = torch.tensor([0.1, 0.39, 0.5])
    expected = [1 / (1 + math.exp(0.4 - f) * 0.9) for f in fau.tolist()]
    expected = [0.4 if g >= 0.6 else g for g in expected]
    torch.testing.assert_close(code_gate(fau, 0.4, 0.9), torch.tensor(expected))


def test_model_size_counts_masks_as_bits():
    learner, method = make(NE.Config())
    entries = sum(m[0].numel() for m in method.masks["actor"])
    assert method.model_size(learner) == learner.policy_params() + math.ceil(entries / 32)


def train(cls, learner_config, seeds, updates=6):
    config = NE.Config(grow_interval=2, grow_rate=0.3, prune_upper_bound=1, prune_batch_size=8, awaken=0.9)
    learner, method = make(config, seeds, cls, learner_config)
    for _ in range(updates):
        learner.update()
    return learner, method


@pytest.mark.parametrize("cls,config", [(TD3, TD3Config(hidden=(16, 16), batch_size=27)),
                                        (SAC, SACConfig(hidden=(16, 16), batch_size=27))])
def test_two_seeds_in_one_learner_equal_two_single_seed_learners(cls, config):
    batched, method = train(cls, config, [0, 1])
    assert sum(v["grown"].sum().item() for v in method.last_event.values()) > 0  # a grow event happened
    for i, seed in enumerate([0, 1]):
        single, single_method = train(cls, config, [seed])
        assert_seed_matches(batched, i, single)
        for role, masks in method.masks.items():
            for m, n in zip(masks, single_method.masks[role]):
                assert torch.equal(m[i], n[0])


def test_a_seed_whose_draw_keeps_the_code_gate_shut_at_every_fau_is_not_measured():
    method = NE(NE.Config())
    u = torch.linspace(0.0, 1.0, 2001)
    candidates = method.gate_candidates(u)
    fau = torch.linspace(0.0, 1.0, 2001)[:, None]  # every FAU against every u
    opens = (fau < method.config.awaken) & (u[None, :] >= code_gate(fau, method.config.awaken, method.config.t_amp))
    assert not opens[:, ~candidates].any()  # a skipped seed could never have reviewed
    assert candidates.any() and not candidates.all()  # the shortcut does skip some draws
    assert NE(NE.Config(er_mode="dormant_slope")).gate_candidates(u) is None  # the slope needs every count


def test_review_measured_on_a_subset_of_seeds_equals_those_seeds_of_the_full_measurement():
    learner, method = make(NE.Config(awaken=0.95), seeds=(0, 1, 2, 3))
    batch = learner.buffer.sample(8, learner.rng)
    u = torch.tensor([0.9, 0.2, 0.7, 0.8])
    full = method.review_decision(learner, batch, u)
    seeds = torch.tensor([0, 2, 3])
    assert torch.equal(method.review_decision(learner, batch, u, seeds), full[seeds])
    assert full.any()  # the gate opens for some seed, so the comparison sees both outcomes
