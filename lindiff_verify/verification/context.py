"""Run context handed to every check: seed, fidelity, backend, precision, named random streams."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from ..model import backend as _backend
from ..model import validate

__all__ = ["Context", "FIDELITIES", "stream_key"]

FIDELITIES = ("quick", "full")


def stream_key(*names: str) -> tuple[int, ...]:
    """A stable spawn key for a named random stream (independent of Python's hash seed)."""
    digest = hashlib.sha256("\x1f".join(names).encode()).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


@dataclass
class Context:
    """Everything a check may depend on. The same (seed, fidelity, backend) gives the same numbers.

    ``rng(name)`` returns a NumPy Generator seeded by SeedSequence(seed, spawn_key=hash of
    (derivation id, check name, name)); streams are independent and recorded in ``seeds_used``.
    """

    seed: int = 0
    fidelity: str = "quick"
    backend: str = "numpy"
    dps: int | None = None
    scope: tuple[str, ...] = ()
    seeds_used: list = field(default_factory=list)

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
    def full(self) -> bool:
        return self.fidelity == "full"

    def pick(self, quick, full):
        """Size parameter by fidelity."""
        return full if self.full else quick

    def scoped(self, *names: str) -> "Context":
        return Context(self.seed, self.fidelity, self.backend, self.dps, self.scope + tuple(names), self.seeds_used)

    def seed_sequence(self, name: str = "") -> np.random.SeedSequence:
        key = stream_key(*self.scope, name)
        self.seeds_used.append({"stream": "/".join(self.scope + (name,)), "entropy": self.seed, "spawn_key": list(key)})
        return np.random.SeedSequence(self.seed, spawn_key=key)

    def rng(self, name: str = "") -> np.random.Generator:
        return np.random.default_rng(self.seed_sequence(name))
