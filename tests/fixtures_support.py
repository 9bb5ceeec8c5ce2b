"""What the tests of mockserver/fixtures.py share: reading a fixture file back, and the
message of a load that must fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver.fixtures import FixtureError, load_fixtures


def read_yaml(path: Path) -> Any:
    """The data of the YAML (or JSON) file at ``path``."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_error(*args: Any, **kwargs: Any) -> str:
    """The message of the FixtureError that ``load_fixtures(*args, **kwargs)`` must raise."""
    with pytest.raises(FixtureError) as caught:
        load_fixtures(*args, **kwargs)
    return str(caught.value)
