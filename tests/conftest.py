"""Fixtures shared by every kind of test."""

from __future__ import annotations

import pytest
from builders import baseline_dict


@pytest.fixture
def baseline() -> dict:
    return baseline_dict()
