"""Suite-wide hooks."""

import gc


def pytest_sessionfinish(session, exitstatus):
    """Collect reference cycles (exceptions caught by pytest.raises keep their frames) while DuckDB's bindings
    are still alive, so closed connections are freed now rather than reported as leaks at interpreter exit."""
    gc.collect()
