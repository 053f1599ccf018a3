"""The reporting side: records in, leaderboard out (scores, rliable statistics, figures).

Nothing here trains or imports a learner; it reads run records only, so the leaderboard can be
regenerated on any machine from `results/` alone.
"""
