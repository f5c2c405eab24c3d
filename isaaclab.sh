#!/usr/bin/env bash
# One entry point for the project: install, run python, test, format.
# The project's Python environment is ./env_isaaclab (a virtual environment), unless a virtualenv or conda
# environment is already active: then that one is used, as upstream Isaac Lab does.
set -euo pipefail

ISAACLAB_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV_DIR="${ISAACLAB_PATH}/env_isaaclab"
STAMP_NAME=".isaaclab_install_stamp"
PACKAGES=(isaaclab isaaclab_tasks isaaclab_mimic)
MIN_PYTHON="3.10"
# torch is installed only when missing, so users keep the build they have (CUDA or CPU).
TORCH_SPEC="${ISAACLAB_TORCH_SPEC:-torch==2.13.0}"

print_help() {
    cat <<EOF
usage: $(basename "$0") [-h] [-i] [-p ARGS...] [-t [PYTEST ARGS...]] [-f] [--export-patch FILE [--isaaclab PATH]]
                   [--export-series DIR [--isaaclab PATH]]

  -h, --help       Show this help and exit.
  -i, --install    Create or update the Python environment and install the packages (editable, with the test,
                   bench and lerobot extras).
                   Uses the active virtualenv / conda env if there is one, else ./env_isaaclab.
  -p, --python     Run the environment's python with the given arguments (sets it up first if needed).
  -t, --test       Run the test suite (pytest; extra arguments go to pytest).
  -f, --format     Format and lint the code with ruff.
  --export-patch FILE [--isaaclab PATH]
                   Write the recorder patch as one unified diff from Isaac Lab 3.0.0 to this project (IsaacLab
                   repository paths). Default: against the isaaclab==3.0.0 wheel (downloaded once, cached); apply with
                   'patch -p3 < FILE' in site-packages. The wheel has no scripts/, so the scripts are then left
                   out. With --isaaclab PATH (a v3.0.0 checkout): against that tree, scripts included; 'git apply FILE'.

  --export-series DIR [--isaaclab PATH]
                   Write the work as a series of pull requests against Isaac Lab 3.0.0 (DIR/series and one patch per
                   pull request, kept in tools/patch_series/): apply them in order with 'patch -p3' in site-packages,
                   or with --isaaclab PATH, 'git apply' in a v3.0.0 checkout. Each one's description is in
                   docs/upstream_patch.md.

Environment variables:
  ISAACLAB_PYTHON      Python used to create ./env_isaaclab (default: python3).
  ISAACLAB_TORCH_SPEC  pip requirement used when torch is missing (default: ${TORCH_SPEC}).
EOF
}

die() {
    echo "[isaaclab.sh] Error: $*" >&2
    exit 1
}

check_python_version() {
    local python_exe="$1"
    command -v "${python_exe}" >/dev/null 2>&1 || die "Python not found ('${python_exe}'). Install Python >= ${MIN_PYTHON} or set ISAACLAB_PYTHON."
    "${python_exe}" - "${MIN_PYTHON}" <<'EOF' || die "Python >= ${MIN_PYTHON} is required, found $("${python_exe}" -V 2>&1) at ${python_exe}."
import sys
need = tuple(int(x) for x in sys.argv[1].split("."))
sys.exit(0 if sys.version_info[:2] >= need else 1)
EOF
}

# The python of the environment the project uses (an active venv / conda env, else ./env_isaaclab).
env_python() {
    if [[ -n "${VIRTUAL_ENV:-}" && -x "${VIRTUAL_ENV}/bin/python" ]]; then
        echo "${VIRTUAL_ENV}/bin/python"
    elif [[ -n "${CONDA_PREFIX:-}" && -x "${CONDA_PREFIX}/bin/python" ]]; then
        echo "${CONDA_PREFIX}/bin/python"
    else
        echo "${VENV_DIR}/bin/python"
    fi
}

# A fingerprint of what the install depends on: the package manifests and the python.
install_fingerprint() {
    local python_exe="$1"
    {
        echo "${python_exe}"
        for pkg in "${PACKAGES[@]}"; do cat "${ISAACLAB_PATH}/source/${pkg}/pyproject.toml"; done
    } | cksum | cut -d' ' -f1
}

install() {
    local python_exe
    python_exe="$(env_python)"
    if [[ "${python_exe}" == "${VENV_DIR}/bin/python" && ! -x "${python_exe}" ]]; then
        local base_python="${ISAACLAB_PYTHON:-python3}"
        check_python_version "${base_python}"
        echo "[isaaclab.sh] Creating the Python environment in ${VENV_DIR}"
        "${base_python}" -m venv "${VENV_DIR}" || die "could not create a virtual environment with ${base_python} (is the venv module installed?)."
    fi
    check_python_version "${python_exe}"
    if ! "${python_exe}" -c "import torch" >/dev/null 2>&1; then
        echo "[isaaclab.sh] Installing ${TORCH_SPEC}"
        "${python_exe}" -m pip install --quiet "${TORCH_SPEC}"
    fi
    echo "[isaaclab.sh] Installing the packages (editable): ${PACKAGES[*]}"
    local args=()
    for pkg in "${PACKAGES[@]}"; do args+=(-e "${ISAACLAB_PATH}/source/${pkg}"); done
    args[1]="${args[1]}[test,bench,compression,lerobot]"
    args[5]="${args[5]}[test]" # isaaclab_mimic: Ray, for the distributed generation tests
    "${python_exe}" -m pip install --quiet "${args[@]}"
    install_fingerprint "${python_exe}" >"$(dirname "$(dirname "${python_exe}")")/${STAMP_NAME}"
}

# Install when the environment is missing or its packages changed since the last install.
ensure_installed() {
    local python_exe stamp
    python_exe="$(env_python)"
    stamp="$(dirname "$(dirname "${python_exe}")")/${STAMP_NAME}"
    if [[ ! -x "${python_exe}" || ! -f "${stamp}" || "$(cat "${stamp}")" != "$(install_fingerprint "${python_exe}")" ]]; then
        install
    fi
}

[[ $# -eq 0 ]] && { print_help; exit 1; }

case "$1" in
    -h | --help)
        print_help
        ;;
    -i | --install)
        install
        ;;
    -p | --python)
        shift
        ensure_installed
        exec "$(env_python)" "$@"
        ;;
    -t | --test)
        shift
        ensure_installed
        cd "${ISAACLAB_PATH}"
        exec "$(env_python)" -m pytest "$@"
        ;;
    --export-patch)
        shift
        ensure_installed
        exec "$(env_python)" "${ISAACLAB_PATH}/tools/upstream_patch.py" "$@"
        ;;
    --export-series)
        shift
        ensure_installed
        exec "$(env_python)" "${ISAACLAB_PATH}/tools/patch_series.py" export "$@"
        ;;
    -f | --format)
        shift
        ensure_installed
        cd "${ISAACLAB_PATH}"
        "$(env_python)" -m ruff format .
        "$(env_python)" -m ruff check --fix .
        ;;
    *)
        echo "[isaaclab.sh] Error: unknown option '$1'." >&2
        print_help >&2
        exit 1
        ;;
esac
