"""A pipeline converted from another tool's file, and what did not carry over (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class Imported:
    name: str  # the pipeline's name
    images: dict[str, dict[str, object]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was left out, and why

    def note(self, image: str, key: str, why: str) -> None:
        self.notes.append(f"{image}: {key} left out ({why})")

    def to_yaml(self) -> str:
        data: dict[str, object] = {"version": 1, "name": name_of(self.name),
                                   "images": self.images}
        if self.groups:
            data["groups"] = self.groups
        # Strings that would read as numbers or booleans come out quoted (safe_dump does so).
        return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100)


def name_of(text: str) -> str:
    """A name the pipeline accepts: letters, digits, `_.-`, starting with a letter or digit."""
    cleaned = _NAME_CHARS.sub("-", text).lstrip("_.-")
    return cleaned or "image"


def key_values(value: object) -> dict[str, str]:
    """A mapping, or compose's list of `K=V` (a bare `K` is an empty value)."""
    if isinstance(value, dict):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    if isinstance(value, list):
        pairs = (str(item).partition("=") for item in value)
        return {k: v for k, _, v in pairs}
    raise ValueError("expected a mapping or a list of KEY=VALUE")
