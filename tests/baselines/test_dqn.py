"""DQN on pixels: seed independence, schedules relative to the budget, target copies, the TD target by hand."""
import copy
import dataclasses

import pytest
import torch

from plasticbench.baselines.dqn import DQN, DQNConfig
from plasticbench.baselines.frame_replay import FrameBatch
from plasticbench.methods.ft1 import FT1
from tests.frame_stream import FrameStream
from tests.seeds import assert_matches_single_seed_runs

SIZE, ACTIONS = 36, 5
CONFIG = DQNConfig(frame_size=SIZE, conv_channels=(8, 16, 16), hidden=(32,), batch_size=8, buffer_size=64,
                   updates_per_step=0.5, target_period=6)
MASKS = [[True, True, True, True, False], [True, False, True, True, True]]  # a continual pair of games


def make(seeds, method=None, config=CONFIG, budgets=(40, 40), masks=MASKS):
    method = method if method is not None else FT1()
    learner = DQN(config, SIZE * SIZE * 4, ACTIONS, list(seeds), method, num_tasks=len(budgets),
                  task_budgets=list(budgets), task_action_masks=masks)
    return learner, method


def play(learner, seeds, steps, first_update=12, stream=None):
    """Act, observe and (every second step once warm) update, as the run loop does; returns the actions [T, S]."""
    stream = stream if stream is not None else FrameStream(seeds, size=SIZE)
    actions = []
    for t in range(steps):
        action = learner.act(stream.obs(), explore=True)
        obs, next_obs, reward, terminated, truncated = stream.step()
        learner.observe(obs, action, reward, next_obs, terminated, truncated)
        if learner.buffer.size >= first_update and t % 2 == 1:
            learner.update()
        actions.append(action)
    return torch.stack(actions)


def test_s_seeds_in_one_dqn_equal_s_single_seed_dqns_bit_for_bit():
    """Two tasks (each game's legal actions, buffer and optimizer reset between), greedy and random
    actions, Adam steps and target copies: seeds 0 and 3 alone hold exactly what they hold side by side."""
    def train_task(learner, method, task, seeds):
        learner.start_task(task)
        play(learner, seeds, 40)

    (batched, _), _ = assert_matches_single_seed_runs(make, train_task, seeds=(0, 3), tasks=2)
    assert batched.updates > 10 and torch.isfinite(batched.last_losses["critic"]).all()


def test_epsilon_schedule_is_a_fraction_of_the_task_budget():
    """Dopamine's numbers at the ReDo budget of 10M agent steps (warm-up 20k, decay over 250k to 0.01, the
    target copied every 8,000 agent steps = 2,000 updates), the same proportions at 10k steps."""
    for budget in (10_000_000, 10_000):
        learner, _ = make([0], config=dataclasses.replace(CONFIG, updates_per_step=0.25, target_period=None),
                          budgets=(budget,), masks=None)
        warmup, decay = 0.002 * budget, 0.025 * budget
        for step, epsilon in [(0, 1.0), (warmup, 1.0), (warmup + decay / 2, 0.505), (warmup + decay, 0.01), (budget, 0.01)]:
            learner.env_steps = int(step)
            assert learner.epsilon() == pytest.approx(epsilon), (budget, step)
        assert learner.target_period() == round(0.0008 * budget * 0.25)
    assert (warmup, decay) == (20, 250)


def test_target_network_is_a_copy_taken_every_period():
    learner, _ = make([0, 1])
    period = learner.target_period()
    assert period == 3  # 6 agent steps at 0.5 updates per step
    play(learner, [0, 1], 14, first_update=0)  # fills the buffer and makes a few updates
    for _ in range(2 * period):
        learner.update()
        online, target = learner.networks["critic"].state_dict(), learner.networks["critic_target"].state_dict()
        same = all(torch.equal(online[k], target[k]) for k in online)
        assert same == (learner.updates % period == 0), learner.updates


def constant_q(network, values):
    """Make Q(s, .) = values for every s: zero output weights, the values as biases."""
    with torch.no_grad():
        head = network.mlp.layers[-1]
        head.weight.zero_()
        head.bias.copy_(torch.tensor(values, dtype=torch.float32).expand_as(head.bias))


@pytest.mark.parametrize("loss", ["huber", "mse"])
def test_td_target_and_loss_on_a_hand_computed_case(loss):
    """Q = [0, 1, 2, 3, 4], Q_target = [10, 20, 30, 40, 50] with action 4 illegal, so max' = 40.
    Rows (a, r, discount, done): (1, 1, .99, 0) -> target 40.6, error 39.6; (3, 0, .25, 1) -> 0, 3;
    (0, .5, .5, 0) -> 20.5, 20.5; (2, 2.5, .99, 1) -> 2.5, 0.5. Huber: 39.1, 2.5, 20.0, 0.125."""
    learner, _ = make([0], config=dataclasses.replace(CONFIG, loss=loss), budgets=(40,), masks=[MASKS[0]])
    constant_q(learner.networks["critic"], [0, 1, 2, 3, 4])
    constant_q(learner.networks["critic_target"], [10, 20, 30, 40, 50])
    column = lambda *v: torch.tensor(v, dtype=torch.float32)[None, :, None]
    obs = torch.zeros(1, 4, 4, SIZE, SIZE, dtype=torch.uint8)
    batch = FrameBatch(obs=obs, action=torch.tensor([1, 3, 0, 2])[None, :, None], reward=column(1, 0, 0.5, 2.5),
                       next_obs=obs, done=column(0, 1, 0, 1), discount=column(0.99, 0.25, 0.5, 0.99))
    learner.learn(batch)
    errors = torch.tensor([39.6, 3.0, 20.5, 0.5])
    expected = (errors - 0.5).where(errors > 1, 0.5 * errors ** 2) if loss == "huber" else errors ** 2
    torch.testing.assert_close(learner.last_losses["critic"], expected.mean()[None])


def test_illegal_actions_are_never_chosen():
    learner, _ = make([0, 1, 2, 3], config=dataclasses.replace(CONFIG, epsilon_eval=0.0), budgets=(1000,), masks=[MASKS[1]])
    obs = FrameStream([0, 1, 2, 3], size=SIZE).obs()
    explored = torch.cat([learner.act(obs, explore=True) for _ in range(100)])  # epsilon = 1 while warming up
    assert set(explored.tolist()) == {0, 2, 3, 4}
    assert set(learner.random_action().tolist()) <= {0, 2, 3, 4}
    constant_q(learner.networks["critic"], [0, 9, 1, 2, 3])  # the illegal action 1 has the largest value
    assert learner.policy_action(obs, False, 0).tolist() == [4, 4, 4, 4]


def test_checkpoint_round_trip_continues_identically():
    learner, _ = make([0, 1])
    stream = FrameStream([0, 1], size=SIZE)
    play(learner, [0, 1], 20, stream=stream)
    resumed, _ = make([0, 1])
    resumed.load_state_dict(copy.deepcopy(learner.state_dict()))  # as written to disk: no tensor shared
    twin = FrameStream([0, 1], size=SIZE)
    twin.episode, twin.t = list(stream.episode), list(stream.t)
    play(learner, [0, 1], 12, stream=stream)
    play(resumed, [0, 1], 12, stream=twin)
    for role, network in learner.networks.items():
        for p, q in zip(network.parameters(), resumed.networks[role].parameters()):
            assert torch.equal(p, q), role
