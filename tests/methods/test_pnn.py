"""PNN (continual-baselines.md §11): the lateral formula by hand, real freezing, seed independence,
per-task answers, §13's model size, and checkpoint/resume with columns added mid-run."""
import copy
import dataclasses
import io
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from plasticbench.baselines.batched import BatchedMLP
from plasticbench.baselines.sac import SAC, SACConfig, squashed_gaussian
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.baselines.td3 import TD3, TD3Config
from plasticbench.benchmark.registry import get_method
from plasticbench.benchmark.runner import build
from plasticbench.methods.pnn import PNN, ProgressiveNetwork
from tests.resume import killed_and_resumed
from tests.seeds import assert_seed_matches
from tests.transitions import fill

OBS, ACT = 5, 2
LEARNERS = [(SAC, SACConfig(hidden=(8, 8), batch_size=8)), (TD3, TD3Config(hidden=(8, 8), batch_size=8))]


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


def linear(layer, h: torch.Tensor, s: int) -> torch.Tensor:
    """One seed's nn.Linear-style affine map, written out."""
    return h @ layer.weight[s] + layer.bias[s, 0]


def start(learner, method, index: int) -> None:
    learner.start_task(index)
    method.on_task_start(learner, SimpleNamespace(index=index))


def make(cls, config, seeds, tasks=2, updates=3):
    """A PNN learner trained `updates` SAC/TD3 steps on each of `tasks` tasks (fresh data per task)."""
    method = PNN(PNN.Config(width=6))
    learner = cls(config, OBS, ACT, list(seeds), method)
    for task in range(tasks):
        if task > 0:
            start(learner, method, task)
        fill(learner, seeds, steps=20 + task)
        for _ in range(updates):
            learner.update()
    return learner, method


def test_registered_for_continual_sac_and_td3_with_the_spec_defaults():
    assert get_method("pnn") is PNN
    assert PNN.learners == {"sac", "td3"} and PNN.settings == {"continual"}
    assert PNN.Config() == PNN.Config(width=None, activation="leaky_relu")
    for hidden, width in [((256, 256, 256), 96), ((64, 64), 24)]:  # 96/256 of the learner's width (§11)
        actor = SAC(SACConfig(hidden=hidden, buffer_size=1), OBS, ACT, [0], PNN()).networks["actor"]
        assert [layer.weight.shape[-1] for layer in actor.columns[0].layers[:-1]] == [width] * len(hidden)
    with pytest.raises(ValueError, match="width"):
        PNN(PNN.Config(width=0))


def test_column_zero_is_a_plain_mlp_with_the_same_weights():
    net = ProgressiveNetwork(2, (3, 5, 5, 2), "leaky_relu", SeedRNG([0, 1]))
    mlp = BatchedMLP(2, (3, 5, 5, 2), "leaky_relu", SeedRNG([7, 8]))
    with torch.no_grad():
        for theirs, ours in zip(mlp.layers, net.columns[0].layers):
            theirs.weight.copy_(ours.weight)
            theirs.bias.copy_(ours.bias)
    x = torch.randn(2, 7, 3)
    assert torch.equal(net(x), mlp(x))
    net.add_column(SeedRNG([0, 1]))
    assert torch.equal(net.column_outputs(x, 1)[0], mlp(x))  # a new column leaves column 0's answer alone


def test_columns_one_and_two_match_the_lateral_formula_written_by_hand():
    net = ProgressiveNetwork(2, (3, 4, 4, 2), "leaky_relu", SeedRNG([0, 1]))
    net.add_column(SeedRNG([0, 1]))
    net.add_column(SeedRNG([0, 1]))
    c0, c1, c2 = net.columns
    for c, column in ((1, c1), (2, c2)):  # a_l^c ~ U(0, 1) / c, one per seed and adapted layer
        assert len(column.scales) == 2 and all(a.shape == (2, 1, 1) for a in column.scales)
        assert all(0 < a.min() and a.max() < 1 / c for a in column.scales)
    assert c2.lateral_in[0].weight.shape == (2, 8, 4) and not hasattr(c2.lateral_in[0], "bias")  # V: 4*2 -> 4
    assert c2.lateral_out[1].weight.shape == (2, 4, 2)  # U at the output layer: 4 -> out
    x = torch.randn(2, 6, 3)
    outputs = net.column_outputs(x, 2)
    for s in range(2):
        a0 = lrelu(linear(c0.layers[0], x[s], s))
        b0 = lrelu(linear(c0.layers[1], a0, s))
        out0 = linear(c0.layers[2], b0, s)

        def adapter(column, l, below):  # U(act(V(a * H)))
            return linear(column.lateral_out[l], lrelu((column.scales[l][s] * below) @ column.lateral_in[l].weight[s]), s)

        a1 = lrelu(linear(c1.layers[0], x[s], s))
        b1 = lrelu(linear(c1.layers[1], a1, s) + adapter(c1, 0, a0))
        out1 = linear(c1.layers[2], b1, s) + adapter(c1, 1, b0)
        a2 = lrelu(linear(c2.layers[0], x[s], s))
        b2 = lrelu(linear(c2.layers[1], a2, s) + adapter(c2, 0, torch.cat([a0, a1], -1)))
        out2 = linear(c2.layers[2], b2, s) + adapter(c2, 1, torch.cat([b0, b1], -1))
        for got, expected in zip(outputs, (out0, out1, out2)):
            torch.testing.assert_close(got[s], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls,config", LEARNERS)
def test_real_updates_leave_column_zero_bit_identical_and_train_column_one(cls, config):
    learner, method = make(cls, config, [0, 1], tasks=1)
    actor = learner.networks["actor"]
    start(learner, method, 1)
    old = [p.detach().clone() for p in actor.columns[0].parameters()]
    new = [p.detach().clone() for p in actor.columns[1].parameters()]
    optimized = {p for group in learner.optimizers["actor"].param_groups for p in group["params"]}
    assert all(p.requires_grad and p in optimized for p in actor.columns[1].parameters())
    fill(learner, [0, 1])
    for _ in range(3):
        learner.update()
    assert all(not p.requires_grad and torch.equal(p, q) for p, q in zip(actor.columns[0].parameters(), old))
    assert all(not torch.equal(p, q) for p, q in zip(actor.columns[1].parameters(), new))
    if cls is TD3:  # the target actor mirrors the columns: frozen column 0 equal, column 1 Polyak-tracked
        target = learner.networks["actor_target"]
        assert len(target.columns) == 2 and not any(p.requires_grad for p in target.parameters())
        assert all(torch.equal(p, q) for p, q in zip(target.columns[0].parameters(), old))
        assert all(not torch.equal(p, q) for p, q in zip(target.columns[1].parameters(), new))


@pytest.mark.parametrize("cls,config", LEARNERS)
def test_s_seeds_in_one_learner_equal_s_single_seed_learners(cls, config):
    config = dataclasses.replace(config, batch_size=64)  # 64 rows x 8 units: the GEMM path, not the small-matrix loop
    batched, _ = make(cls, config, [0, 1])
    for i, seed in enumerate([0, 1]):
        single, _ = make(cls, config, [seed])
        assert_seed_matches(batched, i, single, roles=("actor", "critic"))


def test_evaluating_answers_with_column_j_and_unseen_tasks_with_the_newest():
    learner, method = make(SAC, LEARNERS[0][1], [0, 1], tasks=3, updates=1)
    actor = learner.networks["actor"]
    obs = torch.randn(2, 4, OBS)
    columns = [out.detach() for out in actor.column_outputs(obs, 2)]
    assert not torch.equal(columns[0], columns[1]) and not torch.equal(columns[1], columns[2])
    for task, answer in ((0, 0), (1, 1), (2, 2), (5, 2)):
        with method.evaluating(learner, task):
            assert torch.equal(actor(obs), columns[answer])
            action = learner.policy_action(obs[:, 0], False, 0)
            torch.testing.assert_close(action, squashed_gaussian(columns[answer][:, :1], None)[0][:, 0])
    assert torch.equal(actor(obs), columns[2])  # training acts with the newest column again


@pytest.mark.parametrize("obs,act,expected", [(18, 6, 7.78), (27, 8, 7.69)])  # §11: HalfCheetah, Ant
def test_model_size_of_eight_columns_over_one_default_actor(obs, act, expected):
    config = SACConfig(hidden=(256, 256, 256), activation="leaky_relu", buffer_size=1)  # Rewire's actor (§2.1)
    method = PNN()
    learner = SAC(config, obs, act, [0], method)
    for task in range(1, 8):
        start(learner, method, task)
    assert learner.reference_policy_params() == obs * 256 + 256 + 2 * (256 * 256 + 256) + 256 * 2 * act + 2 * act  # §13
    column = obs * 96 + 96 + 2 * (96 * 96 + 96) + 96 * 2 * act + 2 * act
    laterals = [3 * (96 * c) * 96 + 2 * (96 * 96 + 96) + 96 * 2 * act + 2 * act + 3 for c in range(1, 8)]  # V, U, a
    assert method.held_params(learner) == 8 * column + sum(laterals)
    assert round(method.model_size(learner) / learner.reference_policy_params(), 2) == expected


@pytest.mark.parametrize("cls,config", LEARNERS)
def test_checkpoint_round_trip_rebuilds_the_columns_and_continues_identically(cls, config):
    a, method_a = make(cls, config, [0, 1], tasks=3)
    buffer = io.BytesIO()
    torch.save(a.state_dict(), buffer)
    buffer.seek(0)
    method_b = PNN(PNN.Config(width=6))
    b = cls(config, OBS, ACT, [0, 1], method_b)
    b.load_state_dict(torch.load(buffer, weights_only=False))
    for role in a.networks:
        if role.startswith("actor"):
            assert len(b.networks[role].columns) == 3
        trainable_a = [(n, p.requires_grad) for n, p in a.networks[role].named_parameters()]
        assert [(n, p.requires_grad) for n, p in b.networks[role].named_parameters()] == trainable_a
    assert method_b.model_size(b) == method_a.model_size(a)
    for _ in range(2):
        a.update(), b.update()
    for role in a.networks:
        for p, q in zip(a.networks[role].parameters(), b.networks[role].parameters()):
            assert torch.equal(p, q)


def test_run_killed_mid_scenario_resumes_to_the_same_record_with_the_model_size_of_section_13(
        tiny_config, tmp_path, monkeypatch):
    overrides = ("method=pnn", "method.width=8", "suite=halfcheetah_forgetting", "seeds=2",
                 "scale.steps_per_task=72", "scale.checkpoint_every=36", "scale.eval_every=72")
    config = tiny_config(*overrides)
    # killed at the mid-task checkpoint of the second task: two columns to rebuild
    resumed, straight = killed_and_resumed(tiny_config, overrides, tmp_path, monkeypatch, die_at=3)
    assert resumed["curves"] == straight["curves"] and resumed["final_returns"] == straight["final_returns"]
    # no forgetting: a task's frozen column answers at the end exactly as at the end of its own training
    assert [list(row) for row in zip(*resumed["final_returns"])] == resumed["task_end_returns"]

    learner, method = build(config)
    for task in range(1, 8):
        start(learner, method, task)
    expected = method.held_params(learner) / learner.reference_policy_params()  # over one 16x16 FT-1 actor
    assert resumed["model_size"]["actor"] == pytest.approx(expected)
