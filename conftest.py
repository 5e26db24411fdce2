"""Shared by tests/ and sdk_tests/: hypothesis profiles (HYPOTHESIS_PROFILE=ci in CI, dev by default,
deep), and a cassette cache of the run's own, so that tests leave nothing in the user's cache folder."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

if "GEMINI_EMULATOR_CASSETTE_CACHE" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="gemini-emulator-cassette-cache-")
    os.environ["GEMINI_EMULATOR_CASSETTE_CACHE"] = _cache
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)
