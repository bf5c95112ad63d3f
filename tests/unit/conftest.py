import os
import shutil

import pytest

FIXTURE_STORE = os.path.join(os.path.dirname(__file__), "fixtures", "store")


@pytest.fixture
def fixture_store(tmp_path):
    """tests/unit/fixtures/store in tmp_path with {{STORE}} made that path, plus a machine whose config.json is a
    folder: unreadable even by root, which chmod 000 is not."""
    store = tmp_path / "store"
    shutil.copytree(FIXTURE_STORE, store)
    for config in store.glob("machines/*/config.json"):
        config.write_text(config.read_text().replace("{{STORE}}", str(store)))
    (store / "machines" / "unreadable" / "config.json").mkdir(parents=True)
    return store
