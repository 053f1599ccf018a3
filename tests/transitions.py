"""Transitions for learner tests that depend only on the seed, so any subset of seeds sees the same data."""
import torch


def fill(learner, seeds, steps=40):
    """Add `steps` transitions per seed; seed s's rows are drawn from a generator keyed by (s, t) only."""
    obs_dim, act_dim = learner.obs_dim, learner.act_dim
    for t in range(steps):
        rows = [torch.Generator().manual_seed(1000 * s + t) for s in seeds]
        draw = lambda n: torch.stack([torch.randn(n, generator=g) for g in rows])
        done = torch.zeros(len(seeds), dtype=torch.bool)
        learner.observe(draw(obs_dim), draw(act_dim).tanh(), draw(1)[:, 0], draw(obs_dim), done, done)
