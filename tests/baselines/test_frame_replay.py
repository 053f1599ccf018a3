"""The uint8 frame replay: exact stacks at episode boundaries, n-step sums, checkpoints, memory."""
import pytest
import torch

from plasticbench.baselines.frame_replay import FrameReplay, bytes_per_transition, frame_replay_bytes
from plasticbench.benchmark.replay_chunks import live_entries
from tests.frame_stream import FrameStream

SEEDS = [0, 1, 2]
SHAPE = (4, 6, 6)


def fill(buffer, stream, steps):
    """Add `steps` transitions from `stream`; returns them, in order, as the buffer was given them."""
    added = []
    for t in range(steps):
        obs, next_obs, reward, terminated, _ = stream.step()
        action = torch.tensor([(3 * t + i) % 5 for i in range(len(stream.seeds))])
        buffer.add(obs, action, reward, next_obs, terminated.float())
        added.append((obs, action, reward, next_obs, terminated))
    return added


def assert_holds_exactly(buffer, added):
    """Every slot returns the transition that was added there, bit for bit (one-step sampling)."""
    first = buffer.added - buffer.size
    batch = buffer.gather(torch.arange(buffer.size).expand(len(SEEDS), -1))
    for slot in range(buffer.size):
        obs, action, reward, next_obs, terminated = added[first + (slot - first) % buffer.capacity]
        assert torch.equal(batch.obs[:, slot], obs), slot
        assert torch.equal(batch.next_obs[:, slot], next_obs), slot
        assert torch.equal(batch.action[:, slot, 0], action) and torch.equal(batch.reward[:, slot, 0], reward)
        assert torch.equal(batch.done[:, slot, 0], terminated.float())
    assert (batch.discount == buffer.gamma).all()


@pytest.mark.parametrize("capacity,steps", [(64, 40), (7, 40)])
@pytest.mark.parametrize("zero_pad", [False, True])
def test_stacks_are_exact_at_episode_boundaries(capacity, steps, zero_pad):
    """Episodes of 1 to 9 steps (shorter than the stack too), reset stacks padded with the reset frame
    or zeros, a ring that wraps: every stack is the environment's own, none mixes two episodes."""
    buffer = FrameReplay(len(SEEDS), capacity, SHAPE, "cpu")
    rows = buffer.rows
    added = fill(buffer, FrameStream(SEEDS, size=6, zero_pad=zero_pad), steps)
    assert_holds_exactly(buffer, added)
    if capacity == 64:
        assert buffer.rows > rows  # episodes shorter than EPISODE_STEPS grew the episode table


def stack(*ids):
    return torch.stack([torch.full((6, 6), i, dtype=torch.uint8) for i in ids])[None]  # [1, 4, 6, 6]


def test_n_step_return_on_a_hand_computed_case():
    """gamma 0.5, n 3. Episode A: rewards 1, 2, 4, 8, terminal on its 4th step; episode B: 16, 32, cut
    by truncation at the newest transition. k stops at a terminal and at the newest transition."""
    buffer = FrameReplay(1, 16, SHAPE, "cpu", gamma=0.5, n_step=3)
    a = [stack(*(max(u, 0) + 1 for u in range(t - 3, t + 1))) for t in range(5)]  # frame u has id u + 1
    b = [stack(50, 50, 50, 50), stack(50, 50, 50, 51), stack(50, 50, 51, 52)]
    rows = [(a[0], 1, a[1], 0), (a[1], 2, a[2], 0), (a[2], 4, a[3], 0), (a[3], 8, a[4], 1),
            (b[0], 16, b[1], 0), (b[1], 32, b[2], 0)]
    for obs, reward, next_obs, terminal in rows:
        buffer.add(obs, torch.tensor([0]), torch.tensor([float(reward)]), next_obs, torch.tensor([float(terminal)]))
    batch = buffer.gather(torch.arange(6)[None])
    assert batch.reward[0, :, 0].tolist() == [3.0, 6.0, 8.0, 8.0, 32.0, 32.0]  # 1 + .5*2 + .25*4, 2 + .5*4 + .25*8, ...
    assert batch.discount[0, :, 0].tolist() == [0.125, 0.125, 0.25, 0.5, 0.25, 0.5]
    assert batch.done[0, :, 0].tolist() == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    expected_next = [a[3], a[4], a[4], a[4], b[2], b[2]]  # the observation after step t + k - 1
    for i, nxt in enumerate(expected_next):
        assert torch.equal(batch.next_obs[0, i], nxt[0]), i
        assert torch.equal(batch.obs[0, i], rows[i][0][0]), i


def test_checkpoint_chunks_restore_the_same_transitions():
    """Chunks written every 6 steps while the ring wraps (the run loop's protocol, benchmark/replay_chunks.py):
    a fresh buffer restored from the live ones holds exactly what the original holds."""
    buffer, stream = FrameReplay(len(SEEDS), 10, SHAPE, "cpu"), FrameStream(SEEDS, size=6)
    chunks, added = [], []
    for _ in range(5):
        added += fill(buffer, stream, 6)
        chunks.append(buffer.unsaved_chunk())
        buffer.mark_saved()
    restored = FrameReplay(len(SEEDS), 10, SHAPE, "cpu")
    pointer = buffer.pointer_state()
    restored.restore(pointer, [c for c in chunks if c in live_entries(chunks, pointer)])
    assert_holds_exactly(restored, added)
    copy = FrameReplay(len(SEEDS), 10, SHAPE, "cpu")
    copy.load_state_dict(buffer.state_dict())
    assert_holds_exactly(copy, added)


def test_refuses_observations_that_are_not_frame_stacks():
    buffer = FrameReplay(1, 8, SHAPE, "cpu")
    obs = torch.randint(0, 256, (1, *SHAPE), dtype=torch.uint8)
    with pytest.raises(ValueError, match="frame-stacked"):
        buffer.add(obs, torch.tensor([0]), torch.zeros(1), obs.flip(1) + 1, torch.zeros(1))
    with pytest.raises(ValueError, match="uint8"):
        buffer.add(obs.float(), torch.tensor([0]), torch.zeros(1), obs.float(), torch.zeros(1))


def test_each_frame_is_stored_once():
    """84x84 stacks of 4: one frame + 11 bytes of fields + the episode table's share per transition,
    about an eighth of two full float-free uint8 stacks (56,448 bytes)."""
    per = bytes_per_transition((4, 84, 84), 1_000_000)
    assert 84 * 84 + 11 <= per < 84 * 84 + 11 + 120
    assert frame_replay_bytes(2, 50, SHAPE) == FrameReplay(2, 50, SHAPE, "cpu").allocated_bytes()
