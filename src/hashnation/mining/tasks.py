"""Run independent tasks in-process, on Dask's local threads or processes, or on a cluster.

One function, :func:`map_tasks`, serves the Monte Carlo (chunks of paths),
sensitivity runs and design sweeps. Results come back in the order of the
arguments whatever the order tasks finish in, so a run's output does not
depend on the scheduler.

Schedulers: ``"synchronous"`` (or ``None``: a plain loop, no Dask),
``"threads"`` and ``"processes"`` (Dask's local schedulers, one worker per
usable core), a ``"tcp://host:port"`` address of a Dask scheduler, or a
``distributed.Client``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from hashnation.errors import InputError

R = TypeVar("R")
Progress = Callable[[int, int], None]
_NO_SHARED = object()

SCHEDULER_HELP = "'threads', 'synchronous', 'processes' or a tcp://host:port address"


def usable_cores() -> int:
    """Cores this process may run on [-]."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def map_tasks(
    func: Callable[..., R],
    args: Sequence[tuple[Any, ...]],
    *,
    scheduler: str | Any | None = "threads",
    progress: Progress | None = None,
    shared: Any = _NO_SHARED,
) -> list[R]:
    """Call ``func(*a)`` (or ``func(shared, *a)``) for every ``a`` in ``args``.

    Parameters
    ----------
    func
        A picklable function (for processes and clusters).
    args
        Positional arguments of each task.
    scheduler
        Where the tasks run (see the module docstring).
    progress
        Called with (tasks done, tasks) as tasks finish.
    shared
        A large argument given first to every task; on a cluster it is sent
        to each worker once (scattered) instead of with every task.

    Raises
    ------
    InputError
        Unknown scheduler, or a cluster address that cannot be reached.
    """
    total = len(args)
    lead: tuple[Any, ...] = () if shared is _NO_SHARED else (shared,)

    def tick(done: int) -> None:
        if progress is not None:
            progress(done, total)

    if total == 0:
        return []
    if scheduler in (None, "synchronous"):
        out = []
        for k, a in enumerate(args):
            out.append(func(*lead, *a))
            tick(k + 1)
        return out
    if scheduler in ("threads", "processes"):
        return _local(func, lead, args, str(scheduler), tick)
    return _distributed(func, lead, args, scheduler, tick)


def _local(
    func: Callable[..., R],
    lead: tuple[Any, ...],
    args: Sequence[tuple[Any, ...]],
    scheduler: str,
    tick: Callable[[int], None],
) -> list[R]:
    import dask
    from dask.callbacks import Callback

    tasks = [dask.delayed(func, pure=False)(*lead, *a) for a in args]
    keys = {t.key for t in tasks}
    done = [0]

    class _Progress(Callback):  # type: ignore[misc]
        def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
            if key in keys:
                done[0] += 1
                tick(done[0])

    with _Progress():
        results = dask.compute(*tasks, scheduler=scheduler, num_workers=usable_cores())
    return list(results)


def _distributed(
    func: Callable[..., R],
    lead: tuple[Any, ...],
    args: Sequence[tuple[Any, ...]],
    scheduler: Any,
    tick: Callable[[int], None],
) -> list[R]:
    from distributed import Client, as_completed

    own = False
    if isinstance(scheduler, str):
        if not scheduler.startswith("tcp://"):
            raise InputError("scheduler", scheduler, SCHEDULER_HELP)
        try:
            client = Client(scheduler, timeout="5s")
        except OSError as exc:
            raise InputError(
                "scheduler", scheduler, f"a reachable Dask scheduler ({exc})"
            ) from None
        own = True
    else:
        client = scheduler
    try:
        remote = tuple(client.scatter(x, broadcast=True) for x in lead)
        futures = [client.submit(func, *remote, *a, pure=False) for a in args]
        position = {fut.key: k for k, fut in enumerate(futures)}
        results: list[Any] = [None] * len(futures)
        for k, fut in enumerate(as_completed(futures)):
            results[position[fut.key]] = fut.result()
            tick(k + 1)
        return results
    finally:
        if own:
            client.close()
