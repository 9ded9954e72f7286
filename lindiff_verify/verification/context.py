"""Run context handed to every check: seed, fidelity, backend, precision, named random streams."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..model import backend as _backend
from ..model import validate

__all__ = ["Context", "FIDELITIES", "stream_key", "FULL_FACTOR", "GPU_FULL_FACTOR", "GPU_BATCH_FACTOR"]

FIDELITIES = ("quick", "full")
#: ``ctx.paths``: a full run draws this many times the quick run's Monte Carlo samples (CPU backends) ...
FULL_FACTOR = 10
#: ... and at least this many times on a GPU backend (so tolerances ∝ SE tighten by √100 = 10)
GPU_FULL_FACTOR = 100
#: ``ctx.batch_seeds``: a batch on a GPU holds this many times the CPU batch (fewer, larger kernels)
GPU_BATCH_FACTOR = 16


def stream_key(*names: str) -> tuple[int, ...]:
    """A stable spawn key for a named random stream (independent of Python's hash seed)."""
    digest = hashlib.sha256("\x1f".join(names).encode()).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


@dataclass
class Context:
    """Everything a check may depend on. The same (seed, fidelity, backend) gives the same numbers.

    ``rng(name)`` returns a NumPy Generator seeded by SeedSequence(seed, spawn_key=hash of
    (derivation id, check name, name)); streams are independent and recorded in ``seeds_used``.
    ``paths(quick, full)`` sizes a Monte Carlo sample by fidelity *and backend* and records it in
    ``paths_used`` (what ran where); ``map(fn, items)`` runs independent batches (as cluster tasks inside a
    Dask worker, see ``verification.execution``) and returns their results in order.
    """

    seed: int = 0
    fidelity: str = "quick"
    backend: str = "numpy"
    dps: int | None = None
    scope: tuple[str, ...] = ()
    seeds_used: list = field(default_factory=list)
    paths_used: list = field(default_factory=list)

    def __post_init__(self):
        self.seed = validate.positive_int("seed", self.seed, minimum=0)
        validate.choice("fidelity", self.fidelity, FIDELITIES)
        validate.choice("backend", self.backend, _backend.BACKENDS)
        if self.dps is None:
            self.dps = 30 if self.fidelity == "quick" else 50
        if self.dps < 15:
            validate.positive_int("dps", self.dps, minimum=15)

    @property
    def xp(self):
        """Array namespace of the chosen backend (NumPy or CuPy)."""
        return _backend.namespace(self.backend)

    @property
    def device(self) -> str:
        """``cpu``, or ``gpu: <CUDA device name>`` for CuPy."""
        return _backend.device_name(self.backend)

    @property
    def on_gpu(self) -> bool:
        return self.backend in _backend.GPU_BACKENDS

    @property
    def full(self) -> bool:
        return self.fidelity == "full"

    def pick(self, quick, full):
        """Size parameter by fidelity."""
        return full if self.full else quick

    def paths(self, quick: int, full: int | None = None, *, what: str = "paths") -> int:
        """Monte Carlo sample count: ``quick`` in a quick run; in a full run ``full`` (default
        FULL_FACTOR × quick) on a CPU backend and at least GPU_FULL_FACTOR × quick on a GPU. Recorded in
        ``paths_used`` with the backend and device, so the card says how many ran where."""
        quick = validate.positive_int("quick paths", quick)
        n = quick
        if self.full:
            n = validate.positive_int("full paths", full) if full is not None else FULL_FACTOR * quick
            if self.on_gpu:
                n = max(n, GPU_FULL_FACTOR * quick)
        self.paths_used.append({"what": "/".join(self.scope + (what,)), "paths": n, "backend": self.backend,
                                "device": self.device})
        return n

    def batch_seeds(self, name: str, n: int, batch: int) -> list[tuple[np.random.SeedSequence, int]]:
        """(seed sequence, size) of the batches of ``n`` draws from the named stream: batch i is child i of
        the stream's SeedSequence, so the draws depend on (seed, name, batch) and not on where they run.
        ``batch`` is the CPU batch size; a GPU backend uses GPU_BATCH_FACTOR times it."""
        n, batch = validate.positive_int("n", n), validate.positive_int("batch", batch)
        batch *= GPU_BATCH_FACTOR if self.on_gpu else 1
        sizes = [min(batch, n - i) for i in range(0, n, batch)]
        return list(zip(self.seed_sequence(name).spawn(len(sizes)), sizes, strict=True))

    def map(self, fn: Callable, items: Sequence) -> list:
        """``[fn(x) for x in items]`` for independent batches, as tasks on the cluster inside a Dask worker."""
        from .execution import map_batches

        return map_batches(fn, items)

    def scoped(self, *names: str) -> "Context":
        return replace(self, scope=self.scope + tuple(names))

    def seed_sequence(self, name: str = "") -> np.random.SeedSequence:
        key = stream_key(*self.scope, name)
        self.seeds_used.append({"stream": "/".join(self.scope + (name,)), "entropy": self.seed, "spawn_key": list(key)})
        return np.random.SeedSequence(self.seed, spawn_key=key)

    def rng(self, name: str = "") -> np.random.Generator:
        return np.random.default_rng(self.seed_sequence(name))
