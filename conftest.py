"""Root pytest configuration of this repository: Hypothesis profiles and the mpmath precision reset.

The derivation options and items (--derivations, --fidelity, --seed, the ini key lindiff_derivations) come
from the installed pytest plugin ``lindiff_verify.verification.plugin`` (entry point pytest11); it is
registered here only when the installed package does not declare it yet (an install older than the plugin).

Hypothesis profiles (select with --hypothesis-profile NAME or HYPOTHESIS_PROFILE=NAME):
  dev       default: 25 examples, random seeds
  ci        derandomised, 25 examples, no deadline, no example database (Hypothesis' own ``ci`` profile is
            loaded automatically when CI=true; we re-register it with these settings)
  thorough  500 examples, for nightly / pre-release sweeps
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points

import mpmath
import pytest
from hypothesis import HealthCheck, settings

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors])
settings.register_profile("dev", max_examples=25, **_common)
settings.register_profile("ci", max_examples=25, derandomize=True, database=None, print_blob=True, **_common)
settings.register_profile("thorough", max_examples=500, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

_PLUGIN = "lindiff_verify.verification.plugin"
if not any(ep.value == _PLUGIN for ep in entry_points(group="pytest11")):
    pytest_plugins = [_PLUGIN]


@pytest.fixture(autouse=True)
def _reset_mpmath_precision():
    """mpmath precision is global state: every test starts and ends at the default 15 digits."""
    mpmath.mp.dps = 15
    yield
    mpmath.mp.dps = 15
