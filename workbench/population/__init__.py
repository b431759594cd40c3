"""The population of every package of a source: per-day features, peer baselines from
them, and the screen that ranks every package."""
