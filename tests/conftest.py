"""Shared test settings: where the original article's files are, and skipping without them."""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from model.data import distill_dir


@pytest.fixture(scope="session")
def distill():
    """The folder of the original article's files (HANDWRITING_DISTILL), or skip."""
    path = distill_dir()
    if not (path / "b64_weights.json").is_file():
        pytest.skip(f"original article files not found at {path} (set HANDWRITING_DISTILL)")
    return path
