"""Where the work runs: in this process, on local joblib workers (``--jobs N``), or as tasks on a
``dask.distributed`` cluster (``--scheduler ADDRESS`` or ``$LINDIFF_VERIFY_SCHEDULER``).

Two levels of tasks:

* a derivation is one task (:func:`map_tasks`, used by ``runner.run`` and the report): the worker re-loads
  the derivation from its source file by id, so only ids, paths and the run settings travel;
* the independent Monte Carlo batches of a heavy check are tasks too (:func:`map_batches`, reached through
  ``ctx.map``): inside a Dask worker they are submitted to the same cluster (``worker_client`` secedes the
  waiting task, so nested tasks cannot deadlock); elsewhere they run in order in the calling process.

Reproducibility: a task's random streams are named by the task (``ctx.rng(name)`` with the derivation id
and check name in the spawn key; batch *i* of a stream is ``SeedSequence.spawn`` child *i*), never by the
worker, and batch results are combined in batch order — so a cluster run gives the same numbers as a local
one. A worker that dies mid-task: the scheduler reruns the task on another worker; a task that kills
workers repeatedly (``distributed.scheduler.allowed-failures``) comes back as a :class:`TaskFailed`, which
the runner turns into an error card naming the cause — a derivation is never silently missing.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from pathlib import Path
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ..model.errors import InputError

__all__ = ["SCHEDULER_ENV", "TaskFailed", "Engine", "resolve_scheduler", "make_engine", "map_tasks", "map_batches",
           "in_dask_worker", "dask_available"]

SCHEDULER_ENV = "LINDIFF_VERIFY_SCHEDULER"
_ADDRESS = re.compile(r"^(?:(?:tcp|tls|inproc|ucx|ws|wss)://)?[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")


@dataclass(frozen=True)
class TaskFailed:
    """A task that did not return: the exception's type and message (e.g. ``KilledWorker``)."""

    error: str

    @classmethod
    def of(cls, exc: BaseException) -> "TaskFailed":
        name = type(exc).__name__
        why = f"{name}: {exc}"
        if name == "KilledWorker":
            why = f"the Dask worker running it died repeatedly ({why}); the task was not completed"
        return cls(why.splitlines()[0] if why else name)


def dask_available() -> tuple[bool, str]:
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        return False, f"dask.distributed is not installed ({exc}); pip install 'lindiff-verify[dask]'"
    return True, ""


def resolve_scheduler(address: str | None) -> str | None:
    """The scheduler address from the option, else from ``$LINDIFF_VERIFY_SCHEDULER``; None: run locally."""
    address = address if address else os.environ.get(SCHEDULER_ENV, "").strip() or None
    if address is None:
        return None
    if not _ADDRESS.match(address):
        raise InputError("scheduler", f"is {address!r}", "a Dask scheduler address such as tcp://host:8786")
    ok, why = dask_available()
    if not ok:
        raise InputError("scheduler", f"{address!r} given but {why}", "install the 'dask' extra, or omit --scheduler")
    return address


class Engine:
    """Runs independent tasks and yields ``(index, result)``; a failed task yields a :class:`TaskFailed`.

    ``kind``: ``serial`` (this process), ``joblib`` (``jobs`` local processes) or ``dask`` (a cluster).
    """

    def __init__(self, kind: str = "serial", jobs: int = 1, scheduler: str | None = None, client=None):
        self.kind, self.jobs, self.scheduler, self._client = kind, jobs, scheduler, client

    def describe(self) -> dict:
        out = {"engine": self.kind, "jobs": self.jobs}
        if self.kind == "dask":
            out["scheduler"] = self.scheduler
            try:
                out["workers"] = len(self.client().scheduler_info().get("workers", {}))
            except Exception:  # informative only
                pass
        return out

    def client(self):
        if self._client is None:
            from distributed import Client

            try:
                self._client = Client(self.scheduler, timeout="20s", set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise InputError("scheduler", f"{self.scheduler!r} cannot be reached ({type(exc).__name__}: {exc})",
                                 "the address of a running Dask scheduler") from exc
        return self._client

    def imap(self, fn: Callable, args: Sequence[tuple]) -> Iterator[tuple[int, object]]:
        """``fn(*a)`` for every ``a`` in ``args``, yielded as they finish (serial: in order)."""
        if self.kind == "serial" or len(args) == 0:
            for i, a in enumerate(args):
                yield i, fn(*a)
        elif self.kind == "joblib":
            from joblib import Parallel, delayed

            tasks = (delayed(_indexed)(i, fn, a) for i, a in enumerate(args))
            yield from Parallel(n_jobs=self.jobs, return_as="generator_unordered")(tasks)
        else:
            from distributed import as_completed

            client = self.client()
            run = uuid.uuid4().hex[:8]
            futures = {client.submit(fn, *a, key=f"lindiff-{run}-{i}", pure=False): i for i, a in enumerate(args)}
            for fut in as_completed(futures, loop=client.loop):
                i = futures[fut]
                try:
                    yield i, fut.result()
                except Exception as exc:  # KilledWorker, a lost connection, ...
                    yield i, TaskFailed.of(exc)
                finally:
                    fut.release()

    def close(self):
        if self._client is not None:
            self._client.close()
            self._client = None


#: resident growth of a worker that is not a leak: PyTorch (§5, ~250 MB once imported) and the shared caches
_WORKER_GROWTH = 4_000_000_000


def keep_worker_alive():
    """loky restarts a worker whose resident memory grew by 300 MB since its first task, taking that for a leak.
    A worker that imported PyTorch for §5 crosses it: it was restarted mid-run, re-imported everything and
    lost the shared Wishart draws (a warning, and seconds of repeated work). The limit is raised in this worker."""
    try:
        from joblib.externals.loky import process_executor
    except ImportError:  # pragma: no cover — a joblib without loky runs no worker of this kind
        return
    if getattr(process_executor, "_MAX_MEMORY_LEAK_SIZE", _WORKER_GROWTH) < _WORKER_GROWTH:
        process_executor._MAX_MEMORY_LEAK_SIZE = _WORKER_GROWTH


def _indexed(i, fn, a):
    keep_worker_alive()
    return i, fn(*a)


def make_engine(jobs: int | None = 1, scheduler: str | None = None) -> Engine:
    """``scheduler`` (or $LINDIFF_VERIFY_SCHEDULER) → Dask; else ``jobs`` > 1 → joblib; else serial."""
    address = resolve_scheduler(scheduler)
    if address:
        return Engine("dask", jobs=jobs or 0, scheduler=address)
    jobs = 1 if jobs is None else jobs
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise InputError("jobs", f"is {jobs!r}", "an integer ≥ 1")
    return Engine("joblib" if jobs > 1 else "serial", jobs=jobs)


def map_tasks(engine: Engine, fn: Callable, args: Sequence[tuple]) -> list:
    """All results in the order of ``args`` (failed tasks as :class:`TaskFailed`)."""
    out: list = [None] * len(args)
    for i, r in engine.imap(fn, args):
        out[i] = r
    return out


def in_dask_worker() -> bool:
    if "distributed" not in sys.modules:
        return False
    try:
        from distributed import get_worker

        get_worker()
        return True
    except (ValueError, ImportError):
        return False


def map_batches(fn: Callable, items: Sequence) -> list:
    """``[fn(item) for item in items]``; inside a Dask worker each item is a task on the same cluster.

    The results come back in the order of ``items`` whatever ran where; a failure raises (the check then
    reports an error naming it)."""
    items = list(items)
    if len(items) < 2 or not in_dask_worker():
        return [fn(x) for x in items]
    from distributed import worker_client

    task = _portable(fn)
    with worker_client() as client:
        futures = client.map(task, items, pure=False)
        return client.gather(futures)


class _WithDerivations:
    """A batch function made callable on any worker. Derivation files are loaded from paths as packages
    (``registry._load_module``), not importable by name on a fresh worker, and a batch function may name
    them anywhere inside (a partial of a derivation's statistic): the worker first loads the derivation
    modules this process has loaded, and only then unpickles the function."""

    def __init__(self, fn):
        import cloudpickle

        self.modules = _derivation_modules()
        self.payload = cloudpickle.dumps(fn)

    def __call__(self, item):
        import cloudpickle

        from .registry import _load_module

        for name, file, root in self.modules:
            if name not in sys.modules:
                _load_module(Path(file), Path(root))
        return cloudpickle.loads(self.payload)(item)


def _derivation_modules() -> list[tuple[str, str, str]]:
    """(module name, file, package root folder) of every derivation module loaded in this process."""
    from .registry import BUILTIN_PACKAGE, USER_PREFIX

    out = []
    for name, mod in list(sys.modules.items()):
        file = getattr(mod, "__file__", None)
        if not file or file.endswith("__init__.py"):
            continue
        if name.startswith(BUILTIN_PACKAGE + "."):
            depth = len(name.split(".")) - len(BUILTIN_PACKAGE.split("."))
        elif name.startswith(USER_PREFIX + "."):
            depth = len(name.split(".")) - len(USER_PREFIX.split(".")) - 1
        else:
            continue
        if depth >= 1:
            out.append((name, file, str(Path(file).parents[depth - 1])))
    return sorted(out)


def _portable(fn):
    return _WithDerivations(fn)
