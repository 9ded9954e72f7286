"""Root pytest configuration: Hypothesis profiles, mpmath precision reset, derivation discovery options.

Hypothesis profiles (select with --hypothesis-profile NAME or HYPOTHESIS_PROFILE=NAME):
  dev       default: 25 examples, random seeds
  ci        derandomised, 25 examples, no deadline, no example database (Hypothesis' own ``ci`` profile is
            loaded automatically when CI=true; we re-register it with these settings)
  thorough  500 examples, for nightly / pre-release sweeps
"""

from __future__ import annotations

import os

import mpmath
import pytest
from hypothesis import HealthCheck, settings

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors])
settings.register_profile("dev", max_examples=25, **_common)
settings.register_profile("ci", max_examples=25, derandomize=True, database=None, print_blob=True, **_common)
settings.register_profile("thorough", max_examples=500, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def pytest_addoption(parser):
    group = parser.getgroup("lindiff-verify")
    group.addoption("--derivations", action="append", default=[], metavar="PATH",
                    help="extra folder of user derivations to collect (also $LINDIFF_VERIFY_DERIVATIONS)")
    group.addoption("--fidelity", default="quick", choices=("quick", "full"), help="fidelity of derivation checks")
    group.addoption("--seed", type=int, default=0, help="root seed of derivation checks")


@pytest.fixture(autouse=True)
def _reset_mpmath_precision():
    """mpmath precision is global state: every test starts and ends at the default 15 digits."""
    mpmath.mp.dps = 15
    yield
    mpmath.mp.dps = 15
