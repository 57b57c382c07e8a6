"""Settings shared by every test tier."""

from __future__ import annotations

import os

from hypothesis import settings

# CI explores the same examples every run so a landing never fails by chance; local runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
