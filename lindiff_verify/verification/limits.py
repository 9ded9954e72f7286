"""Wall-clock limits (SIGALRM; main thread on POSIX — elsewhere the code runs without a limit).

Limits nest: the report's ``--timeout`` around a derivation and a symbolic check's proof budget inside it
share one interval timer, armed for the nearest deadline; each limit raises its own
:class:`TimeLimitExceeded`, so an inner limit never swallows an outer one.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager

__all__ = ["TimeLimitExceeded", "time_limit", "call_with_time_limit"]


class TimeLimitExceeded(BaseException):
    """A limited block ran past its limit (a BaseException so that no check's ``except Exception`` eats it)."""

    def __init__(self, message: str, owner: object = None):
        super().__init__(message)
        self.owner = owner


_stack: list[tuple[float, object, str, type]] = []  # (deadline, owner token, message, exception), outermost first


def _available() -> bool:
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")


def _arm():
    if _stack:
        nearest = min(entry[0] for entry in _stack)
        signal.setitimer(signal.ITIMER_REAL, max(nearest - time.monotonic(), 1e-6))
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _on_alarm(signum, frame):
    now = time.monotonic()
    for deadline, owner, message, exc_type in _stack:  # the outermost limit that is due wins
        if deadline <= now + 1e-3:
            raise exc_type(message, owner)
    _arm()  # woken early: wait for the nearest deadline


@contextmanager
def time_limit(seconds: float | None, what: str = "block", *, hint: str = "",
               exc_type: type[TimeLimitExceeded] = TimeLimitExceeded):
    """Raise ``exc_type`` ("<what> ran longer than <seconds> s (<hint>)") after ``seconds``; no limit when
    ``seconds`` is falsy or no timer is available. Yields the token that the exception's ``owner`` is."""
    token = object()
    if not seconds or not _available():
        yield token
        return
    old = signal.signal(signal.SIGALRM, _on_alarm) if not _stack else None
    message = f"{what} ran longer than {seconds:g} s" + (f" ({hint})" if hint else "")
    _stack.append((time.monotonic() + seconds, token, message, exc_type))
    _arm()
    try:
        yield token
    finally:
        _stack.remove(next(e for e in _stack if e[1] is token))
        _arm()
        if old is not None:
            signal.signal(signal.SIGALRM, old)


def call_with_time_limit(fn, seconds: float):
    """``fn()``, or None when it runs past ``seconds`` (an outer limit still propagates)."""
    try:
        with time_limit(seconds, "call") as token:
            return fn()
    except TimeLimitExceeded as exc:
        if exc.owner is not token:
            raise
        return None
