from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

# The plugin's fixtures (hive_socket_server, hive_socket_env, ...) come from the installed
# pytest11 entry point, as they do for users.

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"


@pytest.fixture
def load_example() -> Iterator[Callable[[str], ModuleType]]:
    """Import a file of docs/examples afresh, as its own module, for one test."""
    loaded: list[str] = []

    def load(name: str) -> ModuleType:
        module_name = f"hive_socket_example_{name.replace('/', '_')}"
        spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        loaded.append(module_name)
        spec.loader.exec_module(module)
        return module

    yield load
    for module_name in loaded:
        sys.modules.pop(module_name, None)
