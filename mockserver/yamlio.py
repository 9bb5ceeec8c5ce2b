"""YAML in: the contract, the control document, fixtures and rule files are read here, with
libyaml's parser when the installed PyYAML has it (several times faster than pure Python)."""

from __future__ import annotations

from typing import Any

import yaml

try:
    from yaml import CSafeLoader as YamlLoader
except ImportError:  # pragma: no cover - a PyYAML built without libyaml
    from yaml import SafeLoader as YamlLoader  # type: ignore[assignment]

__all__ = ["YamlLoader", "load_yaml"]


def load_yaml(text: str) -> Any:
    """Parse YAML text with the safe loader; raises ``yaml.YAMLError`` when malformed."""
    return yaml.load(text, Loader=YamlLoader)
