"""`--set IMAGE.FIELD=VALUE` and `--var NAME=VALUE` from the command line (pure)."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from buildorch.errors import ConfigError

# Fields that take a list: a comma-separated value, as `docker buildx bake --set` does.
_LIST_FIELDS = {"tags", "platforms", "depends_on", "no_cache_filter", "inherits"}
# Lists of CSV specs: the whole value is one entry (`--set '*.outputs=type=local,dest=out'`),
# as bake's `--set *.output=...` takes it.
_SPEC_FIELDS = {"outputs", "attest"}
# Fields that are mappings: `--set api.args.VERSION=1`.
_MAP_FIELDS = {"args", "labels", "contexts", "annotations", "extra_hosts", "ulimits"}
# Mappings a list of `KEY=VALUE` entries may give in the file (compose's and bake's forms);
# bake's `--set api.ulimits=nofile=1024:2048` names the key in the value.
_ENTRY_FIELDS = {"extra_hosts", "ulimits"}


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
    field = parts[1]
    if field in _ENTRY_FIELDS and len(parts) == 2 and "=" in value:
        key, _, value = value.partition("=")  # bake's form: one entry, KEY=VALUE
        parts = [*parts, key]
    if field in _MAP_FIELDS and (len(parts) != 3 or not parts[2]):
        example = f"{parts[0]}.{field}.KEY=VALUE"
        raise ConfigError(f"--set {item}: '{field}' needs a key, as in {example}")
    if field not in _MAP_FIELDS and len(parts) != 2:
        raise ConfigError(f"--set {item}: '{field}' takes no key")
    return SetOverride(item, parts[0], tuple(parts[1:]), value)


def apply_sets(
    images: dict[str, object], sets: Sequence[SetOverride]
) -> dict[tuple[str | int, ...], tuple[str, int | None]]:
    """Apply the overrides to the raw `images` mapping in place.

    Returns where each overridden field came from, so that a bad value is reported
    against the `--set` that gave it rather than a line of the file.
    """
    origins: dict[tuple[str | int, ...], tuple[str, int | None]] = {}
    for override in sets:
        names = [n for n in images if fnmatch.fnmatchcase(n, override.pattern)]
        if not names:
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
