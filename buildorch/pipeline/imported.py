"""A pipeline converted from another tool's file, and what did not carry over (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from buildorch.errors import ConfigError, shorten
from buildorch.pipeline.yaml_source import Located, Path_, dotted

_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


class ConversionError(ValueError):
    """A value the conversion cannot take, and where it is in the converted file
    (`('target', 'api', 'args')`), so the message names the target or service and field."""

    def __init__(self, path: Path_, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{dotted(path)}: {message}" if path else message)


@dataclass
class Imported:
    name: str  # the pipeline's name
    images: dict[str, dict[str, object]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was left out, and why
    # each target's or service's image name, by its own name (see `name_images`)
    names: dict[str, str] = field(default_factory=dict)
    # the converted file, when warnings name its file and line (`warn_at`)
    source: Located | None = None

    def note(self, image: str, key: str, why: str) -> None:
        self.notes.append(f"{image}: {key} left out ({why})")

    def warn_at(self, path: Path_, message: str) -> None:
        """A warning that names the converted file, the line and the field, as errors do:
        `compose.yaml:12: services.api.build.privileged: ...` (the file alone for ())."""
        if self.source is None:
            self.notes.append(f"{dotted(path)}: {message}" if path else message)
            return
        line = self.source.line_of(path) if path else None
        self.notes.append(ConfigError(message, file=self.source.file, line=line,
                                      field=dotted(path) or None).render())

    def tell(self, image: str, text: str) -> None:
        """A change the conversion made that the user should know of."""
        self.notes.append(f"{image}: {text}")

    def name_images(self, originals: list[str], kind: str, under: Path_ | None = None) -> None:
        """Each target's or service's image name. A name the pipeline accepts as it is stays;
        one that cleans to a name already taken (`a b` beside `a-b`) becomes `a-b-2`, with a
        note (at `(*under, original)` when given): no target or service is dropped."""
        owner: dict[str, str] = {}  # image name -> the target or service it is
        exact = [o for o in originals if name_of(o) == o]
        for original in [*exact, *(o for o in originals if name_of(o) != o)]:
            name = base = name_of(original)
            number = 1
            while name in owner:
                number += 1
                name = f"{base}-{number}"
            if name != base:
                text = (f"the {kind} '{shorten(original)}' is the image {name} ({base} is the "
                        f"{kind} '{shorten(owner[base])}')")
                if under is None:
                    self.tell(name, text)
                else:
                    self.warn_at((*under, original), text)
            owner[name] = original
            self.names[original] = name

    def image_of(self, original: str) -> str:
        """The image a target or service name (`target:NAME`, `service:NAME`) refers to."""
        return self.names.get(original) or name_of(original)

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


def key_values(value: object, path: Path_) -> dict[str, str | None]:
    """A mapping, or compose's list of `K=V`. A value not given (a bare `K` in the list, or
    a null in the mapping) is None: each caller says what that means for its field."""
    if isinstance(value, dict):
        return {str(k): _scalar(v, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        out: dict[str, str | None] = {}
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise ConversionError((*path, i), "expected a KEY=VALUE string")
            key, sep, text = item.partition("=")
            out[key] = text if sep else None
        return out
    raise ConversionError(path, "expected a mapping or a list of KEY=VALUE")


def given(values: dict[str, str | None], result: Imported, image: str, field_name: str,
          why: str) -> dict[str, str]:
    """The values given; each key without one is left out with a note saying `why`."""
    for key, value in values.items():
        if value is None:
            result.note(image, f"{field_name}.{key}", why)
    return {k: v for k, v in values.items() if v is not None}


def _scalar(value: object, path: Path_) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ConversionError(path, f"expected a string, got {type(value).__name__}")
