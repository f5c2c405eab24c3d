"""Parallel data generation: the env config, one asyncio generation task per environment, and the env loop.

Each environment runs its own :meth:`DataGenerator.generate` loop as an asyncio task. A task asks for a reset by
putting its env id on the reset queue, and for a step by putting ``(env_id, action)`` on the action queue; it then
waits (``queue.join()``) until the env loop has served the request. The env loop runs on the caller's thread: it
lets the tasks run until each has queued an action, resets the environments that asked, steps the batched env once,
and repeats until enough demos are generated.

The counters :data:`num_success`, :data:`num_failures` and :data:`num_attempts` count the finished attempts of the
current run (reset by :func:`setup_async_generation`); a progress display can read them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

import torch

from isaaclab.envs.mdp.recorders.recorders_cfg import ActionStateRecorderManagerCfg
from isaaclab.managers import DatasetExportMode
from isaaclab_tasks.utils import parse_env_cfg

from .data_generator import DataGenerator
from .datagen_info_pool import DataGenInfoPool

__all__ = [
    "env_loop",
    "generation_finished",
    "num_attempts",
    "num_failures",
    "num_success",
    "run_data_generator",
    "setup_async_generation",
    "setup_env_config",
]

num_success = 0
"""Successful attempts of the current run."""

num_failures = 0
"""Failed attempts of the current run."""

num_attempts = 0
"""Finished attempts of the current run."""

MAX_IDLE_ROUNDS = 10
"""Event-loop rounds without any task progress after which the env loop steps anyway, holding the idle envs."""


def setup_env_config(
    env_name: str,
    output_dir: str,
    output_file_name: str,
    num_envs: int,
    device: str,
    generation_num_trials: int | None = None,
    async_write: bool = False,
    early_cpu_offload: bool = False,
) -> tuple[Any, Any]:
    """Build the config of a Mimic environment for data generation.

    The success term is taken out of the terminations (the generator checks it itself) and terminations are turned
    off. Recording uses the env config's ``mimic_recorder_config`` if it has one, else
    :class:`ActionStateRecorderManagerCfg`, and exports succeeded demos only (with ``generation_keep_failed``,
    failed ones go to a separate ``<output_file_name>_failed`` file). The caller may still change the recorder
    config (for example ``dataset_compression``) before building the env.

    Args:
        env_name: Registered task id.
        output_dir: Folder of the generated dataset.
        output_file_name: File name of the generated dataset (without folder).
        num_envs: Number of parallel environments.
        device: Torch device of the env.
        generation_num_trials: Overrides ``datagen_config.generation_num_trials`` when given.
        async_write: Export through the recorder's background writer thread.
        early_cpu_offload: Move recorded tensors to the CPU as they are recorded.

    Returns:
        The env config and the success term config.

    Raises:
        NotImplementedError: If the task has no ``success`` termination term.
    """
    env_cfg = parse_env_cfg(env_name, device=device, num_envs=num_envs)
    if generation_num_trials is not None:
        env_cfg.datagen_config.generation_num_trials = generation_num_trials
    env_cfg.env_name = env_name

    success_term = getattr(env_cfg.terminations, "success", None)
    if success_term is None:
        raise NotImplementedError(f"No success termination term was found in the environment '{env_name}'.")
    env_cfg.terminations = None

    policy_observations = getattr(getattr(env_cfg, "observations", None), "policy", None)
    if hasattr(policy_observations, "concatenate_terms"):
        policy_observations.concatenate_terms = False

    mimic_recorder_config = getattr(env_cfg, "mimic_recorder_config", None)
    recorders = mimic_recorder_config if mimic_recorder_config is not None else ActionStateRecorderManagerCfg()
    recorders.dataset_export_dir_path = output_dir
    recorders.dataset_filename = output_file_name
    if env_cfg.datagen_config.generation_keep_failed:
        recorders.dataset_export_mode = DatasetExportMode.EXPORT_SUCCEEDED_FAILED_IN_SEPARATE_FILES
    else:
        recorders.dataset_export_mode = DatasetExportMode.EXPORT_SUCCEEDED_ONLY
    recorders.async_write = async_write
    recorders.early_cpu_offload = early_cpu_offload
    env_cfg.recorders = recorders
    return env_cfg, success_term


def setup_async_generation(
    env: Any, num_envs: int, input_file: str, success_term: Any, pause_subtask: bool = False
) -> dict[str, Any]:
    """Load the source demos and create one generation task per environment on a new event loop.

    Resets the counters of the run. The tasks only start running inside :func:`env_loop`.

    Args:
        env: The Mimic environment.
        num_envs: Number of environments to generate in (env ids ``0 .. num_envs - 1``).
        input_file: The annotated source dataset.
        success_term: The success term config returned by :func:`setup_env_config`.
        pause_subtask: Wait for the Enter key after each subtask.

    Returns:
        ``tasks`` (the asyncio tasks), ``event_loop``, ``reset_queue``, ``action_queue`` and ``info_pool`` (the
        shared :class:`DataGenInfoPool`).
    """
    global num_success, num_failures, num_attempts
    num_success = num_failures = num_attempts = 0

    event_loop = asyncio.new_event_loop()
    asyncio.set_event_loop(event_loop)
    reset_queue: asyncio.Queue = asyncio.Queue()
    action_queue: asyncio.Queue = asyncio.Queue()
    info_pool = DataGenInfoPool(env, env.cfg, env.device, asyncio_lock=asyncio.Lock())
    info_pool.load_from_dataset_file(input_file)
    data_generator = DataGenerator(env, src_demo_datagen_info_pool=info_pool)
    tasks = [
        event_loop.create_task(
            run_data_generator(env, env_id, reset_queue, action_queue, data_generator, success_term, pause_subtask)
        )
        for env_id in range(num_envs)
    ]
    return {
        "tasks": tasks,
        "event_loop": event_loop,
        "reset_queue": reset_queue,
        "action_queue": action_queue,
        "info_pool": info_pool,
    }


async def run_data_generator(
    env: Any,
    env_id: int,
    env_reset_queue: asyncio.Queue,
    env_action_queue: asyncio.Queue,
    data_generator: DataGenerator,
    success_term: Any,
    pause_subtask: bool = False,
) -> None:
    """Generate demos in one environment until the run has enough (or too many failures).

    An attempt that finishes after the run is already complete is discarded, so the run exports exactly
    ``generation_num_trials`` demos (successes, or attempts without ``generation_guarantee``).
    """
    global num_success, num_failures, num_attempts
    env_ids = torch.tensor([env_id], dtype=torch.int64, device=env.device)
    while not generation_finished(env.cfg.datagen_config):
        results = await data_generator.generate(
            env_id,
            success_term,
            env_reset_queue=env_reset_queue,
            env_action_queue=env_action_queue,
            pause_subtask=pause_subtask,
            export_demo=False,
        )
        if generation_finished(env.cfg.datagen_config):
            env.recorder_manager.reset(env_ids=env_ids)
            return
        env.recorder_manager.export_episodes(env_ids)
        num_attempts += 1
        if results["success"]:
            num_success += 1
        else:
            num_failures += 1


def generation_finished(datagen_config: Any) -> bool:
    """Whether the run has its demos (successes, or attempts without a guarantee) or reached the failure cap."""
    done = num_success if datagen_config.generation_guarantee else num_attempts
    return done >= datagen_config.generation_num_trials or num_failures >= datagen_config.max_num_failures


def env_loop(
    env: Any,
    env_reset_queue: asyncio.Queue,
    env_action_queue: asyncio.Queue,
    shared_datagen_info_pool: DataGenInfoPool,
    asyncio_event_loop: asyncio.AbstractEventLoop,
    data_generator_tasks: Iterable[asyncio.Task] | None = None,
    progress_callback: Callable[[int, int, int], None] | None = None,
) -> dict[str, int]:
    """Step the batched env with the actions the generation tasks queue, until the run is complete.

    Each iteration lets the tasks run until every live task has queued an action (resetting the envs that ask
    for it meanwhile); an env whose task queued nothing (it is waiting on something else, or has finished) gets a
    hold action: its current end-effector pose as target and its last gripper action. The loop ends when
    ``generation_num_trials`` demos succeeded (attempts without ``generation_guarantee``), when ``max_num_failures``
    attempts failed, or when no task is left. The tasks are cancelled on exit; the env is left open.

    Args:
        env: The Mimic environment.
        env_reset_queue: The reset queue of :func:`setup_async_generation`.
        env_action_queue: The action queue of :func:`setup_async_generation`.
        shared_datagen_info_pool: The source demo pool of the tasks (kept for the upstream signature).
        asyncio_event_loop: The event loop of the tasks.
        data_generator_tasks: The generation tasks (default: every pending task of the event loop).
        progress_callback: Called as ``(num_success, num_failures, num_attempts)`` whenever an attempt finishes;
            by default a progress line is printed.

    Returns:
        The final ``num_success``, ``num_failures`` and ``num_attempts``.

    Raises:
        Exception: The first exception raised by a generation task, re-raised as is.
    """
    if data_generator_tasks is None:
        data_generator_tasks = asyncio.all_tasks(asyncio_event_loop)
    tasks = list(data_generator_tasks)
    report = progress_callback if progress_callback is not None else _print_progress
    datagen_config = env.cfg.datagen_config
    reported_attempts = num_attempts
    try:
        with torch.no_grad():
            while True:
                actions = _collect_actions(env, asyncio_event_loop, tasks, env_reset_queue, env_action_queue)
                if num_attempts != reported_attempts:
                    reported_attempts = num_attempts
                    report(num_success, num_failures, num_attempts)
                if generation_finished(datagen_config) or all(task.done() for task in tasks):
                    break
                env.step(_batch_actions(env, actions))
                for _ in actions:
                    env_action_queue.task_done()
    finally:
        _cancel(asyncio_event_loop, tasks)
    return {"num_success": num_success, "num_failures": num_failures, "num_attempts": num_attempts}


def _collect_actions(
    env: Any,
    event_loop: asyncio.AbstractEventLoop,
    tasks: list[asyncio.Task],
    reset_queue: asyncio.Queue,
    action_queue: asyncio.Queue,
) -> dict[int, torch.Tensor]:
    """Run the tasks until each live one has queued an action, or until they stop making progress.

    Resets requested meanwhile are served (batched). A task's exception is re-raised here.
    """
    actions: dict[int, torch.Tensor] = {}
    idle_rounds = 0
    while idle_rounds < MAX_IDLE_ROUNDS:
        event_loop.run_until_complete(asyncio.sleep(0))
        _raise_task_error(tasks)
        progressed = _serve_resets(env, reset_queue)
        while not action_queue.empty():
            env_id, action = action_queue.get_nowait()
            actions[env_id] = action
            progressed = True
        if generation_finished(env.cfg.datagen_config) or len(actions) == sum(not t.done() for t in tasks):
            break
        idle_rounds = 0 if progressed else idle_rounds + 1
    return actions


def _serve_resets(env: Any, reset_queue: asyncio.Queue) -> bool:
    """Reset every env that asked, in one call; returns whether any did."""
    env_ids = []
    while not reset_queue.empty():
        env_ids.append(reset_queue.get_nowait())
    if not env_ids:
        return False
    env.reset(env_ids=torch.tensor(env_ids, dtype=torch.int64, device=env.device))
    for _ in env_ids:
        reset_queue.task_done()
    return True


def _batch_actions(env: Any, actions: dict[int, torch.Tensor]) -> torch.Tensor:
    """One action per env: the queued one, or a hold action for envs without one."""
    rows = [actions[env_id] if env_id in actions else _hold_action(env, env_id) for env_id in range(env.num_envs)]
    return torch.stack([row.to(env.device) for row in rows])


def _hold_action(env: Any, env_id: int) -> torch.Tensor:
    """The action that keeps an env's end effectors where they are, with their last gripper actions."""
    eef_names = list(env.cfg.subtask_configs)
    last_gripper = env.actions_to_gripper_actions(env.action_manager.action[env_id : env_id + 1])
    return env.target_eef_pose_to_action(
        target_eef_pose_dict={name: env.get_robot_eef_pose(name, env_ids=[env_id])[0] for name in eef_names},
        gripper_action_dict={name: last_gripper[name][0] for name in eef_names},
        action_noise_dict=None,
        env_id=env_id,
    ).reshape(-1)


def _raise_task_error(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()


def _cancel(event_loop: asyncio.AbstractEventLoop, tasks: list[asyncio.Task]) -> None:
    """Cancel the tasks that are still running and let them unwind."""
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        event_loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


def _print_progress(success: int, failures: int, attempts: int) -> None:
    rate = 100.0 * success / attempts if attempts > 0 else 0.0
    print(f"{success}/{attempts} ({rate:.1f}%) successful demos generated by mimic ({failures} failed)", flush=True)
