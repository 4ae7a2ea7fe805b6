from __future__ import annotations

import pytest

from tests.cache.admin.registry_repo import Repo, new_repo


@pytest.fixture
def repo() -> Repo:
    """A fresh cache repository in the local stack's registry."""
    return new_repo()
