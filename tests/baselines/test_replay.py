"""The one-observation replay returns exactly what the two-array layout (obs and next_obs both
stored) returned, for the same draws: across terminations, truncations, task switches and wraps."""
import pytest
import torch

from plasticbench.baselines.replay import Batch, ReplayBuffer
from plasticbench.baselines.seed_rng import SeedRNG

S, OBS, ACT = 3, 5, 2


class TwoArrayBuffer:
    """The layout before issue #19, kept here as the reference."""

    def __init__(self, capacity):
        self.capacity, self.size, self.pointer = capacity, 0, 0
        dims = {"obs": OBS, "action": ACT, "reward": 1, "next_obs": OBS, "done": 1}
        self.storage = {k: torch.zeros(S, capacity, d) for k, d in dims.items()}

    def add(self, obs, action, reward, next_obs, done):
        row = {"obs": obs, "action": action, "reward": reward[:, None], "next_obs": next_obs, "done": done[:, None]}
        for key, value in row.items():
            self.storage[key][:, self.pointer] = value
        self.pointer = (self.pointer + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size, rng):
        index = rng.integers(self.size, batch_size)
        return Batch(**{k: v[torch.arange(S)[:, None], index] for k, v in self.storage.items()})

    def clear(self):
        self.size, self.pointer = 0, 0


def episodes(steps, seed=0, switch_at=None):
    """(obs, action, reward, next_obs, done, switch) per step of S envs whose episodes end by
    termination (done=1) or truncation (done=0) at random lengths, each seed on its own; at
    `switch_at` every seed's stream jumps to a new task (a reset with no episode end)."""
    g = torch.Generator().manual_seed(seed)
    obs = torch.randn(S, OBS, generator=g)
    for t in range(steps):
        next_obs = torch.randn(S, OBS, generator=g)
        ends = torch.rand(S, generator=g) < 0.15
        terminated = ends & (torch.rand(S, generator=g) < 0.5)
        yield obs, torch.randn(S, ACT, generator=g), torch.randn(S, generator=g), next_obs, terminated.float(), t == switch_at
        reset = torch.randn(S, OBS, generator=g)
        obs = torch.where(ends[:, None], reset, next_obs)  # truncated and terminated steps keep their final obs
        if t == switch_at:
            obs = torch.randn(S, OBS, generator=g)


def assert_same_batches(new, old, draws=5, batch=64):
    a, b = SeedRNG([0, 1, 2], stream=4), SeedRNG([0, 1, 2], stream=4)
    for _ in range(draws):
        x, y = new.sample(batch, a), old.sample(batch, b)
        for field in ("obs", "action", "reward", "next_obs", "done"):
            assert torch.equal(getattr(x, field), getattr(y, field)), field


@pytest.mark.parametrize("capacity", [1, 7, 64, 500])
@pytest.mark.parametrize("clear_at_switch", [True, False])
def test_sampling_equals_the_two_array_layout(capacity, clear_at_switch):
    new, old = ReplayBuffer(S, capacity, OBS, ACT, "cpu"), TwoArrayBuffer(capacity)
    for t, (*transition, switch) in enumerate(episodes(300, switch_at=150)):
        for buffer in (new, old):
            buffer.add(*transition)
        if t % 37 == 0 or t == 299:  # a partly filled, just wrapped, newest-transition-included buffer
            assert_same_batches(new, old)
        if switch and clear_at_switch:
            new.clear(), old.clear()
    assert new.side.shape[1] > 1 or capacity < 16  # the side table grew to hold every cut


def test_the_buffer_stores_each_observation_once():
    two = sum(t.numel() * t.element_size() for t in TwoArrayBuffer(10_000).storage.values())
    assert ReplayBuffer(S, 10_000, OBS, ACT, "cpu").allocated_bytes() < 0.75 * two


def test_chunks_since_each_checkpoint_restore_the_same_buffer():
    """Chunks of what was added between checkpoints, stale ones included, restore an equal buffer."""
    live, chunks = ReplayBuffer(S, 50, OBS, ACT, "cpu"), []
    for t, (*transition, _) in enumerate(episodes(180, seed=3)):
        live.add(*transition)
        if t % 23 == 0:
            chunks.append(live.unsaved_chunk())
            live.mark_saved()
    chunks.append(live.unsaved_chunk())
    restored = ReplayBuffer(S, 50, OBS, ACT, "cpu")
    restored.restore(live.pointer_state(), chunks)
    assert (restored.size, restored.pointer, restored.added) == (live.size, live.pointer, live.added)
    assert_same_batches(restored, live)
    for (*transition, _) in episodes(40, seed=4):  # and they go on identically
        live.add(*transition), restored.add(*transition)
    assert_same_batches(restored, live)


def test_reduced_precision_storage_rounds_observations_only():
    exact, half = ReplayBuffer(S, 20, OBS, ACT, "cpu"), ReplayBuffer(S, 20, OBS, ACT, "cpu", obs_dtype="bfloat16")
    for (*transition, _) in episodes(30, seed=5):
        exact.add(*transition), half.add(*transition)
    x, y = exact.gather(torch.arange(20).expand(S, 20)), half.gather(torch.arange(20).expand(S, 20))
    assert torch.equal(x.action, y.action) and torch.equal(x.reward, y.reward) and torch.equal(x.done, y.done)
    assert torch.equal(x.obs.bfloat16().float(), y.obs) and torch.equal(x.next_obs.bfloat16().float(), y.next_obs)
    assert half.allocated_bytes() < exact.allocated_bytes()


def test_a_bad_replay_dtype_is_refused_with_the_allowed_names():
    from plasticbench.baselines.sac import SACConfig

    with pytest.raises(ValueError, match="replay_dtype='float8'; allowed: float32, bfloat16, float16"):
        SACConfig(replay_dtype="float8")
