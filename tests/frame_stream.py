"""Frame-stacked episodes for pixel-learner tests: every frame, reward and episode length is a pure
function of (seed, episode, step), so any subset of seeds sees the same data (tests/seeds.py)."""
import torch

LENGTHS = (3, 1, 6, 2, 9, 4)  # episode lengths cycle per seed; 1 and 2 are shorter than the stack


class FrameStream:
    """S seeds stepping through episodes of uint8 frame stacks [S, K, H, W] (newest last).

    A reset stack repeats its first frame (gymnasium's FrameStackObservation default) or, with
    `zero_pad`, holds zeros before it (Dopamine's); odd episodes end terminated, even ones truncated.
    """

    def __init__(self, seeds, size: int = 6, stack: int = 4, zero_pad: bool = False) -> None:
        self.seeds, self.size, self.stack, self.zero_pad = list(seeds), size, stack, zero_pad
        self.episode = [0] * len(self.seeds)
        self.t = [0] * len(self.seeds)

    def frame(self, seed: int, episode: int, t: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(100_000 * seed + 1_000 * episode + t)
        return torch.randint(0, 256, (self.size, self.size), generator=g, dtype=torch.uint8)

    def length(self, seed: int, episode: int) -> int:
        return LENGTHS[(seed + episode) % len(LENGTHS)]

    def stack_at(self, i: int, t: int) -> torch.Tensor:
        seed, episode = self.seeds[i], self.episode[i]
        frames = []
        for u in range(t - self.stack + 1, t + 1):
            if u >= 0:
                frames.append(self.frame(seed, episode, u))
            else:
                frames.append(torch.zeros(self.size, self.size, dtype=torch.uint8) if self.zero_pad else self.frame(seed, episode, 0))
        return torch.stack(frames)

    def obs(self) -> torch.Tensor:
        return torch.stack([self.stack_at(i, self.t[i]) for i in range(len(self.seeds))])

    def step(self):
        """(obs, next_obs, reward [S], terminated [S], truncated [S]) of one step; episodes restart after."""
        obs = self.obs()
        next_obs = torch.stack([self.stack_at(i, self.t[i] + 1) for i in range(len(self.seeds))])
        reward = torch.tensor([float((7 * s + 3 * e + t) % 5) - 2.0 for s, e, t in zip(self.seeds, self.episode, self.t)])
        ended = torch.tensor([self.t[i] + 1 == self.length(s, self.episode[i]) for i, s in enumerate(self.seeds)])
        odd = torch.tensor([e % 2 == 1 for e in self.episode])
        for i in range(len(self.seeds)):
            self.t[i] += 1
            if ended[i]:
                self.episode[i], self.t[i] = self.episode[i] + 1, 0
        return obs, next_obs, reward, ended & odd, ended & ~odd
