"""An image's input digest (pure): what its build can see and is asked to do, hashed.

It covers the Dockerfile, the context files its `.dockerignore` lets through, local named
contexts, args, target, platforms, labels, secret and ssh ids (never values), the other
settings that change the result (attestations, annotations, hosts, limits, network,
outputs, `reproducible` and rewritten timestamps), the backend kind, and the input digests
of the images it is built on. It leaves out what does not change the result: tags, cache,
where a result is pushed, the builder's address. The manifest behind the digest is kept
so that `why` can say which input changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from buildorch.backends.flags import spec_text
from buildorch.backends.request import BuildRequest
from buildorch.jsontypes import Json, JsonObject

Pairs = tuple[tuple[str, str], ...]
VERSION = 1  # of what the digest covers: a change makes every image's digest new


@dataclass(frozen=True)
class Tree:
    """A folder as a build sees it: each visible path and what it holds."""

    digest: str
    files: Pairs  # (relative path, content digest with mode, link target or "dir")


@dataclass(frozen=True)
class ImageSources:
    """What was read from disk for one image; None where it cannot be (a remote context)."""

    dockerfile: str | None  # sha256 of the Dockerfile's text
    context: Tree | None
    named: Mapping[str, Tree]  # local named contexts, by key as the request has them


@dataclass(frozen=True)
class InputManifest:
    dockerfile: str
    context: Tree
    named: Pairs  # key -> a tree digest, `image:<input digest>`, or the source as written
    settings: Pairs  # (what, value): `arg:NAME`, `target`, `platform`, `label:KEY`, ...
    dependencies: Pairs  # image -> its input digest

    @cached_property
    def digest(self) -> str:
        text = json.dumps([VERSION, self.dockerfile, self.context.digest, self.named,
                           self.settings, self.dependencies], separators=(",", ":"))
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    def to_json(self) -> JsonObject:
        files: JsonObject = dict(self.context.files)
        return {"version": VERSION, "digest": self.digest, "dockerfile": self.dockerfile,
                "context": {"digest": self.context.digest, "files": files},
                "named": _object(self.named), "settings": [list(p) for p in self.settings],
                "dependencies": _object(self.dependencies)}

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> InputManifest | None:
        """None for a manifest of another version or shape."""
        try:
            context = data["context"]
            assert data["version"] == VERSION and isinstance(context, dict)
            files = context["files"]
            settings = data["settings"]
            assert isinstance(files, dict) and isinstance(settings, list)
            return cls(str(data["dockerfile"]),
                       Tree(str(context["digest"]), _pairs(files)),
                       _pairs(data["named"]),
                       tuple((str(p[0]), str(p[1])) for p in settings
                             if isinstance(p, list) and len(p) == 2),
                       _pairs(data["dependencies"]))
        except (KeyError, AssertionError, TypeError):
            return None


def _object(pairs: Pairs) -> JsonObject:
    return dict(pairs)


def _pairs(value: Json) -> Pairs:
    if not isinstance(value, dict):
        raise TypeError("not an object")
    return tuple((str(k), str(v)) for k, v in value.items())


def manifest_of(request: BuildRequest, sources: ImageSources, backend: str,
                dependencies: Mapping[str, str],
                named_images: Mapping[str, str]) -> InputManifest | None:
    """`dependencies`: the input digest of each image it is built on; `named_images`: the
    image each named context that is a pipeline image's build refers to. None when an
    input cannot be known (a remote context, a dependency whose inputs are unknown)."""
    if sources.dockerfile is None or sources.context is None:
        return None
    if request.dockerfile_inline is not None:
        dockerfile = _sha256(request.dockerfile_inline)
    else:
        dockerfile = sources.dockerfile
    named = []
    for key, value in request.named_contexts:
        if key in named_images:
            digest = dependencies.get(named_images[key])
            if digest is None:
                return None
            named.append((key, f"image:{digest}"))
        elif key in sources.named:
            named.append((key, sources.named[key].digest))
        else:
            named.append((key, value))
    return InputManifest(dockerfile, sources.context, tuple(sorted(named)),
                         settings(request, backend), tuple(sorted(dependencies.items())))


def settings(request: BuildRequest, backend: str) -> Pairs:
    """Everything of the request that shapes the result, as (what, value) strings."""
    out: list[tuple[str, str]] = [("backend", backend)]
    if request.target:
        out.append(("target", request.target))
    out += [(f"arg:{k}", v) for k, v in request.args]
    out += [("platform", p) for p in request.platforms]
    out += [(f"label:{k}", v) for k, v in request.labels]
    out += [("secret", s.id) for s in request.secrets]
    out += [("ssh", s.id) for s in request.ssh]
    out += [(f"annotation:{k}", v) for k, v in request.annotations]
    out += [("attest", spec_text(a)) for a in request.attest]
    out += [("image-output", f"{k}={v}") for k, v in request.image_attrs]
    outputs = (spec_text(o) for o in request.outputs)
    out += [("output", o) for o in outputs if "{run_id}" not in o]  # not the run's own
    out += [(f"host:{k}", v) for k, v in request.extra_hosts]
    out += [(f"ulimit:{u.name}", f"{u.soft}:{u.hard}") for u in request.ulimits]
    out += [("no-cache-filter", s) for s in request.no_cache_filter]
    for what, value in (("network", request.network), ("shm-size", request.shm_size)):
        if value is not None:
            out.append((what, str(value)))
    # SOURCE_DATE_EPOCH is one of the args; whether the kept image's timestamps are rewritten
    # depends on the builder as much as on the pipeline
    out += [(what, "true") for what, asked in (("reproducible", request.reproducible),
                                                ("rewrite-timestamp", request.rewrite_timestamp))
            if asked]
    return tuple(out)


def _sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def differences(old: InputManifest, new: InputManifest) -> list[str]:
    """What changed from `old` to `new`, one line each, for people."""
    lines: list[str] = []
    if old.dockerfile != new.dockerfile:
        lines.append("Dockerfile changed")
    lines += _pair_changes("file", old.context.files, new.context.files)
    # a named context on a pipeline image changes with its dependency's line below
    lines += _pair_changes("named context", not_images(old.named), not_images(new.named))
    lines += _setting_changes(old.settings, new.settings)
    lines += _pair_changes("dependency", old.dependencies, new.dependencies,
                           changed="input digest changed")
    return lines


def not_images(pairs: Pairs) -> Pairs:
    return tuple((k, v) for k, v in pairs if not v.startswith("image:"))


def _pair_changes(what: str, old: Pairs, new: Pairs, changed: str = "changed") -> list[str]:
    before, after = dict(old), dict(new)
    lines = [f"{what} {k}: added" for k in after if k not in before]
    lines += [f"{what} {k}: removed" for k in before if k not in after]
    lines += [f"{what} {k}: {changed}" for k in after if k in before and before[k] != after[k]]
    return sorted(lines)


def grouped(pairs: Pairs) -> dict[str, list[str]]:
    """Settings may repeat (platforms, secrets): each kind's values as a list."""
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def _setting_changes(old: Pairs, new: Pairs) -> list[str]:
    before, after = grouped(old), grouped(new)
    lines = []
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key), after.get(key)
        if was != now:
            lines.append(f"{key}: {_shown(was)} -> {_shown(now)}")
    return lines


def _shown(values: list[str] | None) -> str:
    if values is None:
        return "(unset)"
    return ", ".join(values) if len(values) != 1 else repr(values[0])
