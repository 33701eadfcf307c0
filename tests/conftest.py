"""The test suite's fixtures live in :mod:`tests.support.fixtures`; this only registers them."""

pytest_plugins = ["tests.support.fixtures"]
