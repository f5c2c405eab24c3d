"""The project's tool that compares two HDF5 dataset files (used by the benchmarks and the upstream check)."""

import h5py
import numpy as np
import pytest


def test_diff_hdf5_files_reports_every_kind_of_difference(tmp_path):
    import isaaclab.utils.datasets as datasets
    from isaaclab.utils.datasets.dataset_diff import diff_hdf5_files

    # no longer exported from the package itself
    assert "diff_hdf5_files" not in datasets.__all__
    with pytest.raises(ImportError):
        from isaaclab.utils.datasets import diff_hdf5_files as _  # noqa: F401

    def write(name, value, attr, extra):
        with h5py.File(tmp_path / name, "w") as file:
            group = file.create_group("data")
            group.attrs["total"] = attr
            group.create_dataset("x", data=value)
            if extra:
                group.create_dataset("extra", data=[1])

    write("a.hdf5", np.arange(3), 1, False)
    write("same.hdf5", np.arange(3), 1, False)
    write("b.hdf5", np.arange(3) + 1, 2, True)
    assert diff_hdf5_files(tmp_path / "a.hdf5", tmp_path / "same.hdf5") == []
    diffs = diff_hdf5_files(tmp_path / "a.hdf5", tmp_path / "b.hdf5")
    assert "/data/@total: np.int64(1) != np.int64(2)" in diffs
    assert "/data/x: values differ" in diffs
    assert "/data/extra: only in the second file" in diffs
