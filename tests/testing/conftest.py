from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from hive_socket.testing import FakeHiveSocketServer

pytest_plugins = ["pytester"]

PLUGIN = "hive_socket.testing.plugin"
EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"

RunUserTests = Callable[..., pytest.RunResult]


def plugin_arguments() -> list[str]:
    """Load the plugin by hand unless its pytest11 entry point already does."""
    if any(entry.value == PLUGIN for entry in entry_points(group="pytest11")):
        return []
    return ["-p", PLUGIN]


@pytest.fixture
def run_user_tests(pytester: pytest.Pytester) -> RunUserTests:
    """Run the test files written into ``pytester.path`` as a user would, warnings as errors."""

    def run(*arguments: str) -> pytest.RunResult:
        return pytester.runpytest(
            *plugin_arguments(), "-p", "no:cacheprovider", "-W", "error", *arguments
        )

    return run


@pytest.fixture
def fake() -> Iterator[FakeHiveSocketServer]:
    with FakeHiveSocketServer() as server:
        yield server
