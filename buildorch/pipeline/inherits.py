"""`inherits` and `defaults` (pure): an image's fields as bake merges them.

Mappings merge key by key; every other field (lists too) is replaced whole. The order is
`defaults`, then each image or template named in `inherits` (itself resolved the same
way), then the image's own fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import ValidationError

from buildorch.pipeline.model import Image, ImageFields
from buildorch.pipeline.references import unknown

MAP_FIELDS = ("args", "labels", "annotations", "contexts", "extra_hosts", "ulimits")
Fields = dict[str, object]


def merge_fields(base: Fields, own: Fields) -> Fields:
    merged = {**base, **own}
    for key in MAP_FIELDS:
        if key in base and key in own:
            merged[key] = {**base[key], **own[key]}  # type: ignore[dict-item]
    return merged


def merge_defaults(defaults: ImageFields, image: Image) -> Image:
    """`defaults` under an image."""
    base = defaults.model_dump(exclude_unset=True)
    if not base:
        return image
    return Image.model_validate(merge_fields(base, image.model_dump(exclude_unset=True)))


class Inheritance:
    """Resolves `inherits` chains once each; a cycle or an unknown name is an error that
    names the image's `inherits` entry, raised once: an image that inherits one with an
    error (reported already, or of its own: `broken`) raises InheritSkipped."""

    def __init__(self, images: Mapping[str, Image], broken: Iterable[str] = ()) -> None:
        self.images = images
        self.broken = frozenset(broken)
        self.done: dict[str, Fields] = {}
        self.failed: set[str] = set()
        self.active: list[str] = []

    def fields(self, name: str) -> Fields:
        """The fields `name` ends with, `defaults` not included (raises InheritError or
        InheritSkipped)."""
        if name in self.done:
            return self.done[name]
        if name in self.failed:
            raise InheritSkipped(name)
        if name in self.active:
            cycle = [*self.active[self.active.index(name):], name]
            raise InheritError(f"inherits form a cycle: {' -> '.join(cycle)}", cycle[-2])
        self.active.append(name)
        try:
            image = self.images[name]
            merged: Fields = {}
            for i, parent in enumerate(image.inherits):
                if parent in self.broken:
                    raise InheritSkipped(name)
                if parent not in self.images:
                    raise InheritError(unknown("image or template", parent, self.images),
                                       name, i)
                merged = merge_fields(merged, self.fields(parent))
            own = image.model_dump(exclude_unset=True, exclude={"inherits"})
            self.done[name] = merge_fields(merged, own)
        except (InheritError, InheritSkipped):
            self.failed.add(name)  # every image on the chain: the error is told once
            raise
        finally:
            self.active.pop()
        return self.done[name]

    def image(self, name: str) -> Image:
        if not self.images[name].inherits:
            return self.images[name]
        try:
            return Image.model_validate(self.fields(name))
        except ValidationError as exc:  # fields valid alone cannot clash when merged
            raise InheritError(str(exc.errors()[0]["msg"]), name) from None


class InheritSkipped(Exception):
    """`image` inherits from one whose error is reported already: its merged fields are
    unknown, and that is no error of its own."""

    def __init__(self, image: str) -> None:
        super().__init__(image)
        self.image = image


class InheritError(ValueError):
    """`image` is where it shows: its `inherits` (entry `index`, if known)."""

    def __init__(self, message: str, image: str, index: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.image = image
        self.index = index
