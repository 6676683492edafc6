"""Fixtures of the estimator tests."""

from __future__ import annotations

import pytest
from estimator_data import peaky_patterns


@pytest.fixture
def data():
    """(X, y, groups): 40 patterns of 96 points, labels 225 and 14."""
    return peaky_patterns()
