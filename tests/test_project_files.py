"""The project's own files say true things: the licence pyproject declares exists, the ``sdk``
extra installs the SDK the tests use, and a contract run leaves nothing in the checkout."""

from __future__ import annotations

import sys
from pathlib import Path

from contracts.server_conformance import conformance_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_declared_licence_is_there() -> None:
    assert PROJECT["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 codat-mock contributors" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def test_the_sdk_extra_installs_the_sdk_the_tests_use() -> None:
    extras = PROJECT["optional-dependencies"]
    [sdk] = extras["sdk"]
    assert sdk.startswith("codat-sync-for-commerce==")
    assert sdk in extras["test"]


def test_schemathesis_keeps_no_cache_in_the_current_folder() -> None:
    # Its discovery cache would otherwise be written to ./.schemathesis/ by every run.
    assert conformance_config("Basic eA==").cache.enabled is False
