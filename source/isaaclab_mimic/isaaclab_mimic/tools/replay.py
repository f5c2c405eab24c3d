"""Replay the actions of a dataset's demos from their initial states and count the demos that still succeed."""

from __future__ import annotations

from collections.abc import Callable

import torch

from isaaclab.envs import ManagerBasedRLEnv, TerminationTermCfg
from isaaclab.utils.datasets import EpisodeData

from .cli import ToolError, load_env_cfg, make_env
from .dataset_io import load_episodes


def replay_demos(
    task: str,
    dataset_file: str,
    device: str = "cpu",
    num_envs: int = 1,
    enable_cameras: bool = False,
    log: Callable[[str], None] = print,
) -> tuple[int, int]:
    """Replay every demo in batches of ``num_envs`` environments; a demo succeeds if the task's success term is true
    at some step of its replay.

    Args:
        task: The task id the demos were recorded in (or a compatible one).
        dataset_file: The dataset to replay.
        device: Torch device.
        num_envs: Number of demos replayed at once.
        enable_cameras: Allow camera tasks.
        log: Where progress lines go.

    Returns:
        The number of demos that succeeded and the number replayed.

    Raises:
        ToolError: On bad input.
    """
    episodes = load_episodes(dataset_file, device)
    env_cfg = load_env_cfg(task, device, min(num_envs, len(episodes)), enable_cameras)
    success_term = env_cfg.terminations.success
    env_cfg.terminations = None
    env = make_env(task, env_cfg)
    succeeded = 0
    try:
        for start in range(0, len(episodes), env.num_envs):
            batch = episodes[start : start + env.num_envs]
            results = _replay_batch(env, [episode for _, episode in batch], success_term)
            for (name, _), success in zip(batch, results):
                succeeded += int(success)
                log(f"{name}: {'succeeded' if success else 'failed'}")
    finally:
        env.close()
    log(f"{succeeded}/{len(episodes)} demos succeeded on replay.")
    return succeeded, len(episodes)


def _replay_batch(env: ManagerBasedRLEnv, episodes: list[EpisodeData], success_term: TerminationTermCfg) -> list[bool]:
    """Replay up to ``num_envs`` demos side by side; envs past the end of their demo hold still."""
    count = len(episodes)
    env_ids = list(range(count))
    try:
        initial_state = _cat_states([episode.data["initial_state"] for episode in episodes])
        env.reset_to(initial_state, env_ids, is_relative=True)
    except (KeyError, RuntimeError) as err:
        raise ToolError(f"The demos' initial states do not fit this task's scene: {err}") from None
    lengths = torch.tensor([len(episode.data["actions"]) for episode in episodes], device=env.device)
    actions = torch.zeros(env.num_envs, int(lengths.max()), env.action_manager.total_action_dim, device=env.device)
    actions[..., -1] = 1.0  # idle: hold the pose with the gripper open
    for index, episode in enumerate(episodes):
        episode_actions = episode.data["actions"].to(env.device)
        if episode_actions.shape[-1] != actions.shape[-1]:
            raise ToolError(
                f"The demos have {episode_actions.shape[-1]}-dim actions; the task takes {actions.shape[-1]}."
            )
        actions[index, : len(episode_actions)] = episode_actions
    success = torch.zeros(env.num_envs, dtype=torch.bool, device=env.device)
    for step in range(actions.shape[1]):
        env.step(actions[:, step])
        active = torch.zeros_like(success)
        active[:count] = step < lengths
        success |= active & success_term.func(env, **success_term.params)
    return success[:count].tolist()


def _cat_states(states: list[dict]) -> dict:
    """Concatenate nested state dicts (each leaf (1, ...)) along the first dimension."""
    first = states[0]
    if isinstance(first, dict):
        return {key: _cat_states([state[key] for state in states]) for key in first}
    return torch.cat(states, dim=0)
