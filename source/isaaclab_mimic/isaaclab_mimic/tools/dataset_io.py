"""Reading source datasets for the Mimic tools."""

from __future__ import annotations

from isaaclab.utils.datasets import EpisodeData, HDF5DatasetFileHandler

from .cli import ToolError, existing_file


def load_episodes(path: str, device: str) -> list[tuple[str, EpisodeData]]:
    """Every demo of a dataset file, in demo-number order, loaded onto ``device``.

    Raises:
        ToolError: If the file is missing, not a dataset, has no demos, or a demo lacks actions or an initial state.
    """
    existing_file(path, "Dataset file")
    handler = HDF5DatasetFileHandler()
    try:
        handler.open(path)
    except (OSError, ValueError) as err:
        raise ToolError(f"Cannot read '{path}' as a dataset: {err}") from None
    try:
        names = sorted(handler.get_episode_names(), key=_demo_number)
        episodes = [(name, handler.load_episode(name, device)) for name in names]
    finally:
        handler.close()
    if not episodes:
        raise ToolError(f"Dataset '{path}' contains no demos.")
    for name, episode in episodes:
        missing = [key for key in ("actions", "initial_state") if key not in episode.data]
        if missing:
            raise ToolError(f"Demo '{name}' in '{path}' has no {' or '.join(missing)}.")
    return episodes


def _demo_number(name: str) -> tuple[int, str]:
    suffix = name.rsplit("_", 1)[-1]
    return (int(suffix), name) if suffix.isdigit() else (-1, name)
