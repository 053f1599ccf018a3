"""EWC against continual-baselines.md §8.1: the closed-form Gaussian Fisher, its accumulation, the penalty."""
from dataclasses import dataclass

import torch

from plasticbench.baselines.batched import BatchedMLP
from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.methods.ewc import EWC, FISHER_EPS, FISHER_MIN, fisher_diagonal, gaussian_parts
from tests.transitions import fill

OBS, ACT = 3, 2
CONFIG = SACConfig(hidden=(8, 8), batch_size=4)


@dataclass
class FakeTask:
    index: int
    name: str = "task"


def _mlp(seeds: list[int], sizes: tuple[int, ...]) -> BatchedMLP:
    return BatchedMLP(len(seeds), sizes, "relu", SeedRNG(seeds, "cpu"))


def test_gaussian_parts_correct_and_reference_indexing():
    out = torch.tensor([[1.0, 2.0, 3.0, 4.0, 0.0, 50.0, -30.0, 1.0]])  # |A| = 4: mu = 1..4, log sigma = 0, 50, -30, 1
    mu, sigma = gaussian_parts(out, 4, reference_indexing=False)
    assert mu.tolist() == [[1.0, 2.0, 3.0, 4.0]]
    torch.testing.assert_close(sigma, torch.tensor([[0.0, 2.0, -20.0, 1.0]]).exp())  # log sigma clipped to [-20, 2]
    mu, sigma = gaussian_parts(out, 4, reference_indexing=True)  # the reference code: first half of mu is "mu"
    assert mu.tolist() == [[1.0, 2.0]]
    torch.testing.assert_close(sigma, torch.tensor([[2.0, 2.0]]).exp())  # ... and the second half, clipped, "log sigma"


def test_fisher_of_a_linear_gaussian_head_matches_the_closed_form():
    """out = x W + b: d mu_i / dW[j, i] = x_j and d sigma_i / dW[j, A + i] = sigma_i x_j."""
    actor = _mlp([0], (OBS, 2 * ACT))
    obs = torch.randn(1, 5, OBS, generator=torch.Generator().manual_seed(0))
    fisher = fisher_diagonal(actor, obs, ACT)
    out = actor(obs)[0]  # [N, 2A]
    sigma2 = out[:, ACT:].exp() ** 2
    x2 = obs[0] ** 2  # [N, D]
    expected_w = torch.cat([x2[:, :, None] / (sigma2[:, None, :] + FISHER_EPS),
                            2 * x2[:, :, None] * sigma2[:, None, :] / (sigma2[:, None, :] + FISHER_EPS)], dim=2)
    expected_b = torch.cat([1 / (sigma2 + FISHER_EPS), 2 * sigma2 / (sigma2 + FISHER_EPS)], dim=1)
    weight, bias = (name for name, _ in actor.named_parameters())
    torch.testing.assert_close(fisher[weight][0], expected_w.clamp_min(FISHER_MIN).mean(0))
    torch.testing.assert_close(fisher[bias].reshape(-1), expected_b.clamp_min(FISHER_MIN).mean(0))


def test_fisher_equals_a_per_state_autograd_loop_and_seeds_stay_apart():
    seeds = [3, 4]
    actor = _mlp(seeds, (OBS, 8, 2 * ACT))
    obs = torch.randn(2, 6, OBS, generator=torch.Generator().manual_seed(1))
    fisher = fisher_diagonal(actor, obs, ACT)
    params = list(actor.parameters())
    for s in range(2):
        expected = [torch.zeros_like(p[s]) for p in params]
        for n in range(obs.shape[1]):
            out = actor(obs[:, n:n + 1])[s, 0]
            mu, sigma = gaussian_parts(out, ACT, False)
            per_state = [torch.zeros_like(p[s]) for p in params]
            for value, factor, scale in [(mu, 1.0, sigma), (sigma, 2.0, sigma)]:
                for i in range(ACT):
                    grads = torch.autograd.grad(value[i], params, retain_graph=True)
                    for acc, g in zip(per_state, grads):
                        acc += factor * g[s] ** 2 / (scale[i].detach() ** 2 + FISHER_EPS)
            for acc, f in zip(expected, per_state):
                acc += f.clamp_min(FISHER_MIN) / obs.shape[1]
        for (name, _), e in zip(actor.named_parameters(), expected):
            torch.testing.assert_close(fisher[name][s], e, msg=name)
    single = _mlp([4], (OBS, 8, 2 * ACT))  # seed 4 alone: same init, same states -> same Fisher
    alone = fisher_diagonal(single, obs[1:], ACT)
    for name in fisher:
        assert torch.equal(fisher[name][1], alone[name][0]), name


def test_ewc_accumulates_fisher_moves_the_anchor_and_pulls_only_the_actor():
    method = EWC(EWC.Config(strength=2.0, samples=16))
    learner = SAC(CONFIG, OBS, ACT, [0, 1], method)
    assert method.loss(learner, "actor", None) is None and method.model_size(learner) == learner.policy_params()
    fill(learner, [0, 1])
    method.on_task_end(learner, FakeTask(0))
    first = [f.clone() for f in method.fisher]
    assert all(torch.all(f >= FISHER_MIN) for f in first)
    assert method.loss(learner, "actor", None).item() == 0.0 and method.loss(learner, "critic", None) is None
    assert method.model_size(learner) == 3 * learner.policy_params()

    actor = learner.networks["actor"]
    with torch.no_grad():
        actor.layers[0].bias[1] += 0.5  # seed 1 moves away from its anchor
    expected = 2.0 * (method.fisher[1][1] * 0.25).sum()  # layers[0].bias is the 2nd parameter
    torch.testing.assert_close(method.loss(learner, "actor", None), expected)

    learner.start_task(1)
    fill(learner, [0, 1])
    method.on_task_end(learner, FakeTask(1))
    assert all(torch.all(f2 > f1) for f1, f2 in zip(first, method.fisher))  # summed over tasks (each term >= 1e-5)
    assert method.loss(learner, "actor", None).item() == 0.0  # the anchor is the latest actor


def test_ewc_state_round_trips():
    method = EWC(EWC.Config(samples=8))
    learner = SAC(CONFIG, OBS, ACT, [0], method)
    fill(learner, [0])
    method.on_task_end(learner, FakeTask(0))
    restored = EWC(EWC.Config(samples=8))
    restored.load_state_dict(method.state_dict())
    with torch.no_grad():
        learner.networks["actor"].layers[0].weight.add_(0.1)
    torch.testing.assert_close(restored.loss(learner, "actor", None), method.loss(learner, "actor", None))
