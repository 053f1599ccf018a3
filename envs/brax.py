"""The Brax backend: S seeds x N environments per seed in one jitted, vmapped step, with the interface of
envs/vector.py's SeedVectorEnv (reset, obs, step -> StepResult, state_dict, close), so the run loop and
the learners do not change. N = 1 (the default) gives SeedVectorEnv's [S, ...] tensors; N > 1 gives
[S, N, ...] (throughput, batched rollouts; the learners here add one transition per seed and step).

Seed independence: seed s's environments draw only from the key of (seeds[s], seed_offset), split
into one key per environment, and vmap keeps environments apart, so a seed's stream is the same alone
or among others. Observations and actions cross between JAX and torch through DLPack (no host copy
on CPU; on an accelerator both frameworks must share the device, else one copy per step).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np
import torch

from plasticbench.envs import brax_physics
from plasticbench.envs.task import Task
from plasticbench.envs.vector import StepResult, env_seed


@dataclass(frozen=True)
class BraxTaskMaker:
    """`Task.make` of a brax task: a picklable (domain, variant) that builds a one-env gymnasium view."""

    domain: str
    variant: str

    def __call__(self, max_episode_steps: int | None = None) -> gymnasium.Env:
        return BraxGymEnv(self, max_episode_steps)


def _to_torch(x: Any, device: torch.device) -> torch.Tensor:
    return torch.from_dlpack(x).to(device)


def _to_jax(x: torch.Tensor, device: Any) -> Any:
    import jax
    import jax.dlpack

    return jax.device_put(jax.dlpack.from_dlpack(x.detach().to(torch.float32).contiguous()), device)


class BraxVectorEnv:
    """S seeds x `envs_per_seed` brax environments of one task, stepped in lockstep with auto-reset."""

    def __init__(self, task: Task, seeds: Sequence[int], max_episode_steps: int | None,
                 device: torch.device | str = "cpu", seed_offset: int = 0, envs_per_seed: int = 1):
        if len(seeds) == 0 or envs_per_seed < 1:
            raise ValueError(f"BraxVectorEnv needs at least one seed and one env per seed, got {list(seeds)}, {envs_per_seed}")
        maker = task.make
        if not isinstance(maker, BraxTaskMaker):
            raise ValueError(f"task {task.name!r} is not a brax task")
        import jax
        import jax.numpy as jnp

        self.task, self.seeds, self.seed_offset = task, [int(s) for s in seeds], seed_offset
        self.device, self.envs_per_seed, self.num_seeds = torch.device(device), envs_per_seed, len(seeds)
        # Every input committed to the default device: jit compiles separately for committed and
        # uncommitted arguments, and the step's outputs (fed back as its carry) are committed.
        self._jax_device = jax.devices()[0]
        self.physics = jax.device_put(brax_physics.task_physics(maker.domain, maker.variant), self._jax_device)
        self._reset_fn, self._step_fn = brax_physics.compiled(maker.domain)
        env = brax_physics.base_env(maker.domain)
        self.obs_dim, self.act_dim = brax_physics.observation_size(maker.domain), int(env.action_size)
        self.max_steps = jax.device_put(jnp.int32(max_episode_steps or brax_physics.DEFAULT_EPISODE_STEPS), self._jax_device)
        self._carry: Any = None

    def _keys(self) -> Any:
        import jax

        keys = jax.numpy.stack([jax.random.split(jax.random.PRNGKey(env_seed(s, self.seed_offset)), self.envs_per_seed)
                                for s in self.seeds])  # [S, N, 2]
        return jax.device_put(keys, self._jax_device)

    def _shape(self, x: torch.Tensor) -> torch.Tensor:
        """[S, N, ...] -> [S, ...] when one env per seed (SeedVectorEnv's layout)."""
        return x[:, 0] if self.envs_per_seed == 1 else x

    def reset(self) -> torch.Tensor:
        """First observations, [S, obs] (or [S, N, obs]); every env starts from its seed's own key."""
        self._carry = self._reset_fn(self.physics, self._keys())
        return self.obs

    @property
    def obs(self) -> torch.Tensor:
        if self._carry is None:
            raise RuntimeError("call reset() before reading obs")
        return self._shape(_to_torch(self._carry.state.obs, self.device))

    def step(self, actions: torch.Tensor) -> StepResult:
        """Step every env with its action in [-1, 1]; ended episodes restart from a fresh random state."""
        expected = (self.num_seeds, self.act_dim) if self.envs_per_seed == 1 else (self.num_seeds, self.envs_per_seed, self.act_dim)
        if tuple(actions.shape) != expected:
            raise ValueError(f"actions must have shape {expected}, got {tuple(actions.shape)}")
        if self._carry is None:
            raise RuntimeError("call reset() before step()")
        batched = actions.reshape(self.num_seeds, self.envs_per_seed, self.act_dim)
        self._carry, out = self._step_fn(self.physics, self._carry, _to_jax(batched, self._jax_device), self.max_steps)
        t = {k: self._shape(_to_torch(v, self.device)) for k, v in out.items()}
        ended = (t["terminated"] | t["truncated"]).reshape(self.num_seeds, -1).any(dim=1)
        returns = t["episode_return"].reshape(self.num_seeds, -1)
        done = (t["terminated"] | t["truncated"]).reshape(self.num_seeds, -1)
        finished = [(s, float(r)) for s in torch.nonzero(ended).flatten().tolist() for r in returns[s][done[s]].tolist()]
        return StepResult(next_obs=t["next_obs"], reward=t["reward"], terminated=t["terminated"],
                          truncated=t["truncated"], obs=t["obs"], finished_returns=finished)

    def state_dict(self) -> dict[str, Any]:
        """Every leaf of the batched state as a tensor (plain types, so `torch.load(weights_only=True)` reads it)."""
        import jax

        leaves = [] if self._carry is None else [torch.from_numpy(np.array(x)) for x in jax.tree.leaves(self._carry)]
        return {"seeds": list(self.seeds), "seed_offset": self.seed_offset, "envs_per_seed": self.envs_per_seed,
                "leaves": leaves}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        import jax

        mine = (self.seeds, self.seed_offset, self.envs_per_seed)
        if (list(state["seeds"]), state["seed_offset"], state["envs_per_seed"]) != mine:
            raise ValueError(f"state for (seeds, offset, envs per seed) {state['seeds'], state['seed_offset'], state['envs_per_seed']} "
                             f"loaded into {mine}")
        if not state["leaves"]:
            return
        treedef = jax.tree.structure(self._reset_fn(self.physics, self._keys()))
        self._carry = jax.device_put(jax.tree.unflatten(treedef, [jax.numpy.asarray(x.numpy()) for x in state["leaves"]]),
                                     self._jax_device)

    def close(self) -> None:
        self._carry = None


@torch.no_grad()
def evaluate_brax_policy(policy: Callable[[torch.Tensor], torch.Tensor], task: Task, seeds: Sequence[int],
                         episodes: int, max_episode_steps: int | None, seed_offset: int,
                         device: torch.device | str = "cpu") -> torch.Tensor:
    """[S] mean return of each seed's first `episodes` episodes, one env per seed (envs/evaluation.py's contract).

    A seed that has its episodes keeps stepping with the others; its results are ignored, and its
    stepping never touches another seed's stream.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    env = BraxVectorEnv(task, seeds, max_episode_steps, device, seed_offset)
    obs, returns = env.reset(), [[] for _ in seeds]
    while any(len(r) < episodes for r in returns):
        result = env.step(policy(obs))
        for s, value in result.finished_returns:
            if len(returns[s]) < episodes:
                returns[s].append(value)
        obs = result.obs
    return torch.tensor([float(np.mean(r)) for r in returns], dtype=torch.float32, device=device)


class BraxGymEnv(gymnasium.Env):
    """One brax environment as a gymnasium env: the spaces a Scenario reads, and plain reset/step."""

    def __init__(self, maker: BraxTaskMaker, max_episode_steps: int | None = None):
        env = brax_physics.base_env(maker.domain)
        self.maker, self.max_episode_steps = maker, max_episode_steps
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (brax_physics.observation_size(maker.domain),), np.float32)
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (int(env.action_size),), np.float32)
        self._vector: BraxVectorEnv | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        if seed is not None or self._vector is None:
            task = Task(self.maker.variant, 0, self.maker, {}, backend="brax")
            self._vector = BraxVectorEnv(task, [seed or 0], self.max_episode_steps)
        return self._vector.reset()[0].numpy(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        if self._vector is None:
            raise RuntimeError("call reset() before step()")
        r = self._vector.step(torch.as_tensor(np.asarray(action, dtype=np.float32))[None])
        return r.next_obs[0].numpy(), float(r.reward[0]), bool(r.terminated[0]), bool(r.truncated[0]), {}
