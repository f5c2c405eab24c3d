"""Fixtures shared by the whole suite."""

import pytest

from isaaclab_mimic.tools.source_dataset import DEFAULT_TASK, ensure_source_dataset


@pytest.fixture(scope="session")
def annotated_source_dataset(tmp_path_factory) -> str:
    """A small annotated source dataset of the embedded task (3 scripted-expert demos), built once per session."""
    return ensure_source_dataset(
        DEFAULT_TASK, num_demos=3, cache_dir=str(tmp_path_factory.mktemp("source")), log=lambda line: None
    )
