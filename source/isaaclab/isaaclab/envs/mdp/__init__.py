"""MDP terms of manager-based envs."""
