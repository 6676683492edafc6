"""A tiny trained model shared by the tests of skxrd.pretrained and the CLI."""

from __future__ import annotations

import pytest
from tiny_model import TINY

from skxrd.pretrained import save_model, train_from_config


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny trained pipeline, its report and its model file."""
    pipe, report = train_from_config(TINY, verbose=0)
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    save_model(pipe, path, metadata=report)
    return pipe, report, path
