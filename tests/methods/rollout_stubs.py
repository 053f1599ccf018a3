"""Stand-ins for the run loop's `Rollouts` in learner-level method tests (no simulator)."""
import torch


class ScriptedRollouts:
    """Returns the scripted [S] returns in order, one per `ctx.rollout` call, and logs every call."""

    def __init__(self, *returns):
        self.script = [torch.as_tensor(r, dtype=torch.float32) for r in returns]
        self.calls = []

    def __call__(self, task, policy, steps, seed_offset):
        self.calls.append((task.index, steps, seed_offset))
        value = self.script.pop(0)
        return value, [1] * value.shape[0]


class PolicyProbe:
    """Returns, per seed, the summed deterministic action on a fixed observation drawn from that seed's
    own generator: it depends on the policy and on the seed alone, so seeds stay independent."""

    def __init__(self, seeds, obs_dim):
        self.obs = torch.stack([torch.randn(obs_dim, generator=torch.Generator().manual_seed(100 + s)) for s in seeds])

    def __call__(self, task, policy, steps, seed_offset):
        return policy(self.obs).sum(-1), [1] * self.obs.shape[0]
