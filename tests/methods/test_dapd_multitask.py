"""DAPD multitask (dapd.md §2 "Multi-task", §7 item 6): one pathway per task in shared weights, chosen per
row by the task one-hot; the merged gradient; per-task masks; seed independence; an end-to-end run."""
import torch

from plasticbench.baselines.batched import BatchedMLP
from plasticbench.baselines.sac import SAC, SACConfig
from plasticbench.baselines.seed_rng import SeedRNG
from plasticbench.methods.dapd import DAPD, MaskedLinear
from plasticbench.methods.dapd_masks import PathwayMLP, merge_gradients, pathway_layers
from tests.seeds import assert_seed_matches

T, FEATURES = 2, 3
SIZES = (FEATURES + T, 4, 2)  # input: 3 features then the task one-hot


def pathway_mlp(seeds=(0, 1)) -> PathwayMLP:
    return PathwayMLP(len(seeds), SIZES, "relu", SeedRNG(list(seeds)), 1, T, slice(FEATURES, FEATURES + T))


def rows(task: int, count: int, generator: torch.Generator, seeds: int = 2) -> torch.Tensor:
    features = torch.randn(seeds, count, FEATURES, generator=generator)
    return torch.cat([features, torch.eye(T)[task].expand(seeds, count, T)], dim=-1)


def overlapping_masks(mlp: PathwayMLP, generator: torch.Generator) -> None:
    """Random masks per task, about half the weights each: some weights in both pathways, some in one, some in none."""
    for layer in pathway_layers(mlp):
        layer.task_masks.copy_((torch.rand(layer.task_masks.shape, generator=generator) < 0.5).float())
        layer.refresh_union()


def loss(mlp: PathwayMLP, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Each seed's mean over rows of a squared error, summed over seeds (the learners' form)."""
    return (mlp(x) - target).pow(2).sum(-1).mean(dim=1).sum()


def gradients(mlp: PathwayMLP, x: torch.Tensor, target: torch.Tensor) -> list[torch.Tensor]:
    mlp.zero_grad(set_to_none=True)
    loss(mlp, x, target).backward()
    return [layer.weight.grad.clone() for layer in mlp.layers]


def test_merged_gradient_is_the_mean_on_the_overlap_and_one_tasks_gradient_elsewhere():
    g = torch.Generator().manual_seed(0)
    mlp = pathway_mlp()
    overlapping_masks(mlp, g)
    x = [rows(n, 6, g) for n in range(T)]
    target = [torch.randn(2, 6, 2, generator=g) for _ in range(T)]
    per_task = [gradients(mlp, x[n], target[n]) for n in range(T)]  # g^n: task n's own loss on its own rows
    merged = gradients(mlp, torch.cat(x, dim=1), torch.cat(target, dim=1))
    merge_gradients(mlp)
    merged = [layer.weight.grad for layer in mlp.layers]
    for layer, g0, g1, got in zip(mlp.layers, per_task[0], per_task[1], merged):
        m0, m1 = layer.task_masks[0].bool(), layer.task_masks[1].bool()
        assert (g0[~m0] == 0).all() and (g1[~m1] == 0).all()  # g^n is already masked by m^n
        both, only0, only1, none = m0 & m1, m0 & ~m1, ~m0 & m1, ~m0 & ~m1
        assert both.any() and only0.any() and only1.any() and none.any()
        torch.testing.assert_close(got[both], (g0[both] + g1[both]) / 2, rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(got[only0], g0[only0], rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(got[only1], g1[only1], rtol=1e-5, atol=1e-7)
        assert (got[none] == 0).all()


def test_each_task_runs_through_its_own_pathway_only():
    g = torch.Generator().manual_seed(1)
    mlp = pathway_mlp()
    overlapping_masks(mlp, g)
    x = torch.cat([rows(0, 5, g), rows(1, 5, g)], dim=1)
    out = mlp(x)
    for n in range(T):  # task n's rows equal a plain masked MLP holding m^n
        plain = BatchedMLP(2, SIZES, "relu", SeedRNG([0, 1]), linear=MaskedLinear)
        plain.load_state_dict({k: v for k, v in mlp.state_dict().items() if "task_masks" not in k and "mask" not in k},
                              strict=False)
        for layer, pathway in zip(plain.layers, mlp.layers):
            layer.mask.copy_(pathway.task_masks[n])
        torch.testing.assert_close(out[:, 5 * n: 5 * (n + 1)], plain(x[:, 5 * n: 5 * (n + 1)]), rtol=1e-6, atol=1e-6)
    # the weights in task 1's pathway only: moving them moves task 1's outputs and never task 0's
    for layer in mlp.layers:
        only1 = layer.task_masks[1].bool() & ~layer.task_masks[0].bool()
        with torch.no_grad():
            layer.weight[only1] += 10.0
    moved = mlp(x)
    assert torch.equal(moved[:, :5], out[:, :5]) and not torch.equal(moved[:, 5:], out[:, 5:])


OBS, ACT = 4 + T, 2
CONFIG = SACConfig(hidden=(16, 16), batch_size=8)


def multitask_learner(seeds, steps: int = 20):
    """A SAC with multitask DAPD, its replay filled as the multitask loop fills it: task 0, task 1, task 0, ...;
    seed s's rows drawn from a generator keyed by (s, step, task) only."""
    method = DAPD(DAPD.Config(keep_ratio=0.2, score_batch=8, window=20))
    learner = SAC(CONFIG, OBS, ACT, seeds, method, num_tasks=T, multitask=True)
    for t in range(steps):
        for task in range(T):
            learner.task_index = task
            gens = [torch.Generator().manual_seed(10_000 * s + 10 * t + task) for s in seeds]
            draw = lambda n: torch.stack([torch.randn(n, generator=g) for g in gens])
            one_hot = torch.eye(T)[task].expand(len(seeds), T)
            obs, next_obs = (torch.cat([draw(OBS - T), one_hot], dim=1) for _ in range(2))
            done = torch.zeros(len(seeds), dtype=torch.bool)
            learner.observe(obs, draw(ACT).tanh(), draw(1)[:, 0] + 3 * task, next_obs, done, done)
        learner.task_index = 0
    return learner, method


def test_pathways_are_per_task_batches_balanced_and_weights_outside_every_pathway_never_move():
    learner, method = multitask_learner([0, 1])
    learner.update()  # each task's masks from its own rows, then the first step
    batch = learner.sample_batch()
    tasks = batch.obs[..., -T:].argmax(-1)
    assert (tasks[:, :4] == 0).all() and (tasks[:, 4:] == 1).all()  # batch_size // T rows of each task
    for role in ("actor", "critic"):
        layers = pathway_layers(learner.networks[role])
        assert any(not torch.equal(l.task_masks[0], l.task_masks[1]) for l in layers)  # the tasks differ
        outside = [l.task_masks.sum(0) == 0 for l in layers]
        before = [l.weight.detach().clone() for l in layers]
        for _ in range(3):
            learner.update()
        for layer, off, old in zip(layers, outside, before):
            assert off.any() and torch.equal(layer.weight[off], old[off])
            assert torch.equal(layer.mask, layer.task_masks.amax(0))  # the union is what the layer holds


def test_a_tasks_episode_end_updates_that_tasks_pathway_only():
    learner, method = multitask_learner([0])
    learner.update()
    before = [l.task_masks.clone() for l in pathway_layers(learner.networks["actor"])]
    learner.task_index = 1
    method.on_episode_end(learner, torch.ones(1, dtype=torch.bool))
    after = [l.task_masks for l in pathway_layers(learner.networks["actor"])]
    assert all(torch.equal(a[0], b[0]) for a, b in zip(after, before))
    assert method.mask_updates == [T + 1]


def test_s_seeds_of_multitask_dapd_equal_s_single_seed_runs():
    def trained(seeds):
        learner, method = multitask_learner(seeds)
        for step in range(4):
            learner.update()
            if step == 1:
                learner.task_index = 1
                method.on_episode_end(learner, torch.ones(len(seeds), dtype=torch.bool))
                learner.task_index = 0
        return learner

    batched = trained([0, 1])
    for i, seed in enumerate([0, 1]):
        single = trained([seed])
        assert_seed_matches(batched, i, single, roles=("actor", "critic"))
        for role in ("actor", "critic"):
            for a, b in zip(pathway_layers(batched.networks[role]), pathway_layers(single.networks[role])):
                assert torch.equal(a.task_masks[:, i], b.task_masks[:, 0])
