"""`--set IMAGE.FIELD=VALUE` and `--var NAME=VALUE` from the command line (pure)."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from buildorch.errors import ConfigError
from buildorch.pipeline.model import Image

# Fields that take a list: a comma-separated value, as `docker buildx bake --set` does.
_LIST_FIELDS = {"tags", "platforms", "depends_on", "no_cache_filter", "inherits",
                "builder_labels"}
# Lists of CSV specs: the whole value is one entry (`--set '*.outputs=type=local,dest=out'`),
# as bake's `--set *.output=...` takes it.
_SPEC_FIELDS = {"outputs", "attest"}
# Fields that are mappings: `--set api.args.VERSION=1`.
_MAP_FIELDS = {"args", "labels", "contexts", "annotations", "extra_hosts", "ulimits"}
# Mappings a list of `KEY=VALUE` entries may give in the file (compose's and bake's forms);
# bake's `--set api.ulimits=nofile=1024:2048` names the key in the value.
_ENTRY_FIELDS = {"extra_hosts", "ulimits"}

# A matrix entry's own fields: gone once it is expanded into images.
_MATRIX_FIELDS = {"matrix", "name"}
_FIELDS = frozenset(Image.model_fields)


@dataclass(frozen=True)
class SetOverride:
    text: str
    pattern: str
    path: tuple[str, ...]
    value: str


def parse_vars(items: Sequence[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--var {item}: expected NAME=VALUE")
        result[name.strip()] = value
    return result


def parse_set(item: str) -> SetOverride:
    target, sep, value = item.partition("=")
    parts = target.split(".")
    if not sep or len(parts) < 2 or not all(parts):
        raise ConfigError(f"--set {item}: expected IMAGE.FIELD=VALUE (for example api.target=test)")
    parts = _image_and_field(parts, value)
    field = parts[1]
    if field in _MATRIX_FIELDS:
        raise ConfigError(f"--set {item}: '{field}' is expanded before --set applies; set "
                          "fields of the images it gives (a matrix entry's key names them all)")
    if field in _ENTRY_FIELDS and len(parts) == 2 and "=" in value:
        key, _, value = value.partition("=")  # bake's form: one entry, KEY=VALUE
        parts = [*parts, key]
    if field in _MAP_FIELDS and (len(parts) != 3 or not parts[2]):
        example = f"{parts[0]}.{field}.KEY=VALUE"
        raise ConfigError(f"--set {item}: '{field}' needs a key, as in {example}")
    if field not in _MAP_FIELDS and len(parts) != 2:
        raise ConfigError(f"--set {item}: '{field}' takes no key")
    return SetOverride(item, parts[0], tuple(parts[1:]), value)


def _image_and_field(parts: list[str], value: str) -> list[str]:
    """[IMAGE, FIELD(, KEY)]: an image's name may hold dots (a matrix's `py-lib-3.11`), and so
    may a mapping's key, which is the rest, as bake's SplitN(key, ".", 3) takes it
    (`labels.org.opencontainers.image.title`). The first split that names a field the way
    it is set wins; with none, the first part is the image (its error is told as such)."""
    for i in range(1, len(parts)):
        field, rest = parts[i], parts[i + 1:]
        if field in _MAP_FIELDS and rest:
            return [".".join(parts[:i]), field, ".".join(rest)]
        bake_entry = field in _ENTRY_FIELDS and "=" in value
        if field in _FIELDS and not rest and (field not in _MAP_FIELDS or bake_entry):
            return [".".join(parts[:i]), field]
    return parts


def apply_sets(
    images: dict[str, object], sets: Sequence[SetOverride],
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> dict[tuple[str | int, ...], tuple[str, int | None]]:
    """Apply the overrides to the raw `images` mapping in place. `aliases`: names that stand
    for images (a matrix entry's key, for the images it expanded to).

    Returns where each overridden field came from, so that a bad value is reported
    against the `--set` that gave it rather than a line of the file.
    """
    origins: dict[tuple[str | int, ...], tuple[str, int | None]] = {}
    aliases = aliases or {}
    for override in sets:
        if override.pattern in aliases:
            names = list(aliases[override.pattern])
        else:
            names = [n for n in images if fnmatch.fnmatchcase(n, override.pattern)]
        if not names and override.pattern not in aliases:
            known = ", ".join(sorted(images))
            raise ConfigError(f"--set {override.text}: no image matches '{override.pattern}' "
                              f"(images: {known})")
        for name in names:
            image = images[name]
            if not isinstance(image, dict):
                continue  # pydantic reports the malformed image itself
            _assign(image, override)
            path = ("images", name, *override.path)
            origins[path] = (f"--set {override.text}", None)
    return origins


def _assign(image: dict[str, object], override: SetOverride) -> None:
    field = override.path[0]
    value: object = override.value
    if field in _LIST_FIELDS:
        value = [v.strip() for v in override.value.split(",") if v.strip()]
    elif field in _SPEC_FIELDS:
        value = [override.value]
    if len(override.path) == 1:
        image[field] = value
        return
    current = image.get(field)
    if field in _ENTRY_FIELDS and isinstance(current, list):
        # the file's list of entries: one more entry, the last of a key wins
        image[field] = [*current, f"{override.path[1]}={value}"]
        return
    mapping: dict[str, object] = dict(current) if isinstance(current, Mapping) else {}
    mapping[override.path[1]] = value
    image[field] = mapping
