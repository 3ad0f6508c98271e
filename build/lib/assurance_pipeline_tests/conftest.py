"""Suite-wide hooks and settings."""

import gc

import pytest


@pytest.fixture(autouse=True, scope="session")
def _fingerprint_key_file(tmp_path_factory):
    """Tests (and the CLIs they start) keep their keys in a temporary folder, never in the home folder."""
    path = tmp_path_factory.mktemp("keys") / "fingerprint.key"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ASSURANCE_FINGERPRINT_KEY_FILE", str(path))
        patch.setenv("ASSURANCE_STORE_KEY_FILE", str(path.with_name("store.key")))  # the evidence stores' checkpoint key
        patch.setenv("ASSURANCE_KEY_DIR", str(path.with_name("people")))  # where `assurance keys new` writes
        patch.delenv("ASSURANCE_FINGERPRINT_KEY", raising=False)
        yield path


@pytest.fixture(autouse=True)
def _no_disposed_instance_left_current():
    """Dagster 1.13 leaves the definitions-state storage of an instance entered as a context manager (`instance_for_test`,
    a schedule context's instance) set after that instance is disposed; a later test loading definitions would reach it
    through a dead weak reference. Each test starts and ends without one."""
    from dagster._core.storage.defs_state.base import _current_storage

    _current_storage.set(None)
    yield
    _current_storage.set(None)


def pytest_sessionfinish(session, exitstatus):
    """Collect reference cycles (exceptions caught by pytest.raises keep their frames) while DuckDB's bindings
    are still alive, so closed connections are freed now rather than reported as leaks at interpreter exit."""
    gc.collect()
