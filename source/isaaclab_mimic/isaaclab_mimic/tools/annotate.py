"""Annotate source demos for Mimic: replay each demo and record ``obs/datagen_info`` from the env's signals."""

from __future__ import annotations

import os
from collections.abc import Callable

import torch

from isaaclab.envs import ManagerBasedRLMimicEnv, TerminationTermCfg
from isaaclab.managers import DatasetExportMode
from isaaclab.utils.datasets import EpisodeData

from .annotation_recorders import MimicRecorderManagerCfg
from .cli import ToolError, load_env_cfg, make_env, new_dataset_file
from .dataset_io import load_episodes


def annotate_demos(
    task: str,
    input_file: str,
    output_file: str,
    device: str = "cpu",
    enable_cameras: bool = False,
    log: Callable[[str], None] = print,
) -> int:
    """Replay every demo of ``input_file`` from its initial state and write the ones that still complete the task,
    with every subtask signal seen, to ``output_file`` with ``obs/datagen_info``.

    Args:
        task: A Mimic task id (its env implements :class:`ManagerBasedRLMimicEnv`).
        input_file: The source dataset.
        output_file: The annotated dataset to create (must not exist).
        device: Torch device.
        enable_cameras: Allow camera tasks.
        log: Where progress lines go.

    Returns:
        The number of annotated demos.

    Raises:
        ToolError: On bad input.
    """
    directory, filename = new_dataset_file(output_file, "Output file")
    episodes = load_episodes(input_file, device)
    env_cfg = load_env_cfg(task, device, 1, enable_cameras)
    if not hasattr(env_cfg, "subtask_configs"):
        raise ToolError(f"Task '{task}' is not a Mimic task (no subtask configs); use a '...-Mimic-v0' task.")
    success_term = env_cfg.terminations.success
    env_cfg.terminations = None
    env_cfg.recorders = MimicRecorderManagerCfg(
        dataset_export_dir_path=directory,
        dataset_filename=filename,
        dataset_export_mode=DatasetExportMode.EXPORT_SUCCEEDED_ONLY,
    )
    env = make_env(task, env_cfg)
    try:
        if not isinstance(env, ManagerBasedRLMimicEnv):
            raise ToolError(f"Task '{task}' is not a Mimic environment.")
        annotated = 0
        for name, episode in episodes:
            problem = _replay(env, episode, success_term)
            if problem is None:
                env.recorder_manager.set_success_to_episodes([0], torch.ones(1, dtype=torch.bool))
                env.recorder_manager.export_episodes([0])
                annotated += 1
                log(f"{name}: annotated")
            else:
                env.recorder_manager.reset([0])
                log(f"{name}: skipped ({problem})")
    finally:
        env.close()
    log(f"Successful task completions: {annotated}")
    log(f"Annotated {annotated} of {len(episodes)} demos to {os.path.join(directory, filename + '.hdf5')}")
    return annotated


def _replay(env: ManagerBasedRLMimicEnv, episode: EpisodeData, success_term: TerminationTermCfg) -> str | None:
    """Replay one demo in env 0 and say why it cannot be annotated, or None if it can."""
    env.recorder_manager.reset([0])
    env.reset_to(episode.data["initial_state"], [0], is_relative=True)
    seen = {name: False for name in env.get_subtask_term_signals([0])}
    for action in episode.data["actions"]:
        env.step(action.reshape(1, -1))
        for name, value in env.get_subtask_term_signals([0]).items():
            seen[name] |= bool(value[0] > 0.5)
    missing = [name for name, was_seen in seen.items() if not was_seen]
    if missing:
        return f"subtask signals never set: {', '.join(missing)}"
    if not bool(success_term.func(env, **success_term.params)[0]):
        return "the task is not completed at the end of the replay"
    return None
