"""The Atari games the harness knows: ALE ids, the Atari-100k set and the human-normalized score's references.

Data only (scenarios.md §5). Names are DQN Zoo's snake_case; each maps to its gymnasium ALE id through
an explicit table, never by string munging (§5.2: `ms_pacman` <-> `MsPacman`). The (random, human)
returns are DQN Zoo's `_ATARI_DATA` [DQNZ dqn_zoo/atari_data.py @359945dc], measured on episodes
started after 1-30 random no-ops and capped at 108,000 frames; the 26-game subset matches rliable's
`RANDOM_SCORES`/`HUMAN_SCORES` [RLC]. The human-normalized score (metrics-benchmark.md §6,
benchmark/reporting/scores.py `human_normalized`) is (R - random) / (human - random), 1.0 = human.
"""
from __future__ import annotations

ALE_IDS: dict[str, str] = {
    "alien": "ALE/Alien-v5", "amidar": "ALE/Amidar-v5", "assault": "ALE/Assault-v5",
    "asterix": "ALE/Asterix-v5", "asteroids": "ALE/Asteroids-v5", "atlantis": "ALE/Atlantis-v5",
    "bank_heist": "ALE/BankHeist-v5", "battle_zone": "ALE/BattleZone-v5", "beam_rider": "ALE/BeamRider-v5",
    "berzerk": "ALE/Berzerk-v5", "bowling": "ALE/Bowling-v5", "boxing": "ALE/Boxing-v5",
    "breakout": "ALE/Breakout-v5", "centipede": "ALE/Centipede-v5", "chopper_command": "ALE/ChopperCommand-v5",
    "crazy_climber": "ALE/CrazyClimber-v5", "defender": "ALE/Defender-v5", "demon_attack": "ALE/DemonAttack-v5",
    "double_dunk": "ALE/DoubleDunk-v5", "enduro": "ALE/Enduro-v5", "fishing_derby": "ALE/FishingDerby-v5",
    "freeway": "ALE/Freeway-v5", "frostbite": "ALE/Frostbite-v5", "gopher": "ALE/Gopher-v5",
    "gravitar": "ALE/Gravitar-v5", "hero": "ALE/Hero-v5", "ice_hockey": "ALE/IceHockey-v5",
    "jamesbond": "ALE/Jamesbond-v5", "kangaroo": "ALE/Kangaroo-v5", "krull": "ALE/Krull-v5",
    "kung_fu_master": "ALE/KungFuMaster-v5", "montezuma_revenge": "ALE/MontezumaRevenge-v5",
    "ms_pacman": "ALE/MsPacman-v5", "name_this_game": "ALE/NameThisGame-v5", "phoenix": "ALE/Phoenix-v5",
    "pitfall": "ALE/Pitfall-v5", "pong": "ALE/Pong-v5", "private_eye": "ALE/PrivateEye-v5",
    "qbert": "ALE/Qbert-v5", "riverraid": "ALE/Riverraid-v5", "road_runner": "ALE/RoadRunner-v5",
    "robotank": "ALE/Robotank-v5", "seaquest": "ALE/Seaquest-v5", "skiing": "ALE/Skiing-v5",
    "solaris": "ALE/Solaris-v5", "space_invaders": "ALE/SpaceInvaders-v5", "star_gunner": "ALE/StarGunner-v5",
    "surround": "ALE/Surround-v5", "tennis": "ALE/Tennis-v5", "time_pilot": "ALE/TimePilot-v5",
    "tutankham": "ALE/Tutankham-v5", "up_n_down": "ALE/UpNDown-v5", "venture": "ALE/Venture-v5",
    "video_pinball": "ALE/VideoPinball-v5", "wizard_of_wor": "ALE/WizardOfWor-v5",
    "yars_revenge": "ALE/YarsRevenge-v5", "zaxxon": "ALE/Zaxxon-v5",
}
"""The 57 games of scenarios.md §5.2 -> gymnasium ids registered by ale-py (all 57 ROMs ship with ale-py >= 0.9)."""

RANDOM_HUMAN: dict[str, tuple[float, float]] = {
    "alien": (227.8, 7127.7), "amidar": (5.8, 1719.5), "assault": (222.4, 742.0), "asterix": (210.0, 8503.3),
    "asteroids": (719.1, 47388.7), "atlantis": (12850.0, 29028.1), "bank_heist": (14.2, 753.1),
    "battle_zone": (2360.0, 37187.5), "beam_rider": (363.9, 16926.5), "berzerk": (123.7, 2630.4),
    "bowling": (23.1, 160.7), "boxing": (0.1, 12.1), "breakout": (1.7, 30.5), "centipede": (2090.9, 12017.0),
    "chopper_command": (811.0, 7387.8), "crazy_climber": (10780.5, 35829.4), "defender": (2874.5, 18688.9),
    "demon_attack": (152.1, 1971.0), "double_dunk": (-18.6, -16.4), "enduro": (0.0, 860.5),
    "fishing_derby": (-91.7, -38.7), "freeway": (0.0, 29.6), "frostbite": (65.2, 4334.7), "gopher": (257.6, 2412.5),
    "gravitar": (173.0, 3351.4), "hero": (1027.0, 30826.4), "ice_hockey": (-11.2, 0.9), "jamesbond": (29.0, 302.8),
    "kangaroo": (52.0, 3035.0), "krull": (1598.0, 2665.5), "kung_fu_master": (258.5, 22736.3),
    "montezuma_revenge": (0.0, 4753.3), "ms_pacman": (307.3, 6951.6), "name_this_game": (2292.3, 8049.0),
    "phoenix": (761.4, 7242.6), "pitfall": (-229.4, 6463.7), "pong": (-20.7, 14.6), "private_eye": (24.9, 69571.3),
    "qbert": (163.9, 13455.0), "riverraid": (1338.5, 17118.0), "road_runner": (11.5, 7845.0),
    "robotank": (2.2, 11.9), "seaquest": (68.4, 42054.7), "skiing": (-17098.1, -4336.9), "solaris": (1236.3, 12326.7),
    "space_invaders": (148.0, 1668.7), "star_gunner": (664.0, 10250.0), "surround": (-10.0, 6.5),
    "tennis": (-23.8, -8.3), "time_pilot": (3568.0, 5229.2), "tutankham": (11.4, 167.6), "up_n_down": (533.4, 11693.2),
    "venture": (0.0, 1187.5), "video_pinball": (16256.9, 17667.9), "wizard_of_wor": (563.5, 4756.5),
    "yars_revenge": (3092.9, 54576.9), "zaxxon": (32.5, 9173.3),
}
"""(random, human) episode returns per game, scenarios.md §5.2 [DQNZ `_ATARI_DATA`]."""

ATARI_100K_GAMES: tuple[str, ...] = (
    "alien", "amidar", "assault", "asterix", "bank_heist", "battle_zone", "boxing", "breakout", "chopper_command",
    "crazy_climber", "demon_attack", "freeway", "frostbite", "gopher", "hero", "jamesbond", "kangaroo", "krull",
    "kung_fu_master", "ms_pacman", "pong", "private_eye", "qbert", "road_runner", "seaquest", "up_n_down",
)
"""The 26 games of Atari 100k [RLC `ATARI_100K_GAMES`; DOP labs/atari_100k]."""

FULL_ACTION_SET = 18
"""ALE's full action set (NOOP, FIRE, the 8 directions, each with FIRE): the shared head of the continual scenario."""

