"""Where this working tree differs from a recorded run (pure): its git commit, and per image
the files and build settings its input manifest covers, one warning line each.

Files are named relative to the run's root (the image's context joined with the path in
it), at most SHOWN_FILES per line and `(+N more)`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from buildorch.planning.input_digests import InputManifest, Pairs, grouped, not_images
from buildorch.planning.plan import Plan, PlannedImage
from buildorch.run.recorded import RecordedGit, RecordedImage, RecordedRun
from buildorch.run.repro.record import GitState

SHOWN_FILES = 5
SHOWN_SETTINGS = 5


@dataclass(frozen=True)
class InputChanges:
    """What differs between two input manifests of one image."""

    files: tuple[str, ...] = ()  # the Dockerfile, context files, named contexts
    settings: tuple[str, ...] = ()  # `arg:VERSION '1' -> '2'`, `target ...`
    dependencies: tuple[str, ...] = ()  # images built on whose inputs differ

    def __bool__(self) -> bool:
        return bool(self.files or self.settings or self.dependencies)

    @property
    def own(self) -> bool:
        """Whether the image's own inputs differ (not only those of what it is built on)."""
        return bool(self.files or self.settings)


def input_changes(old: InputManifest, new: InputManifest, context: str,
                  dockerfile: str) -> InputChanges:
    """`context` and `dockerfile`: where the request finds them, relative to the root."""
    files = [dockerfile] if old.dockerfile != new.dockerfile else []
    files += [_in_context(context, p) for p in _changed(old.context.files, new.context.files)]
    files += [f"named context {k}" for k in _changed(not_images(old.named),
                                                    not_images(new.named))]
    # a Dockerfile inside its context is both the dockerfile and a context file: name it once
    return InputChanges(tuple(dict.fromkeys(files)),
                        tuple(setting_changes(old.settings, new.settings)),
                        tuple(_changed(old.dependencies, new.dependencies)))


def _in_context(context: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(context, path)) if context != "." else path


def _changed(old: Pairs, new: Pairs) -> list[str]:
    before, after = dict(old), dict(new)
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def setting_changes(old: Pairs, new: Pairs) -> list[str]:
    """Each kind of setting's values compared as a list."""
    before, after = grouped(old), grouped(new)
    return [f"{key} {_shown(before.get(key))} -> {_shown(after.get(key))}"
            for key in sorted(before.keys() | after.keys()) if before.get(key) != after.get(key)]


def _shown(values: list[str] | None) -> str:
    if values is None:
        return "(unset)"
    return ", ".join(repr(v) for v in values)


def capped(items: tuple[str, ...] | list[str], shown: int, separator: str = ", ") -> str:
    more = len(items) - shown
    return separator.join(items[:shown]) + (f" (+{more} more)" if more > 0 else "")


def input_warnings(name: str, changes: InputChanges) -> list[str]:
    lines = []
    if changes.files:
        lines.append(f"{name}: files differ from the record: "
                     f"{capped(changes.files, SHOWN_FILES)}")
    if changes.settings:
        lines.append(f"{name}: build settings differ from the record: "
                     f"{capped(changes.settings, SHOWN_SETTINGS, '; ')}")
    return lines


def unknown_inputs_warning(name: str, recorded: str | None, now: str | None) -> str | None:
    """Where the record holds no manifest (an older buildorch, and `.buildorch/inputs` here
    does not have it either), only the input digests can be compared."""
    if recorded is None or now is None:
        return f"{name}: its inputs are unknown (a remote context): they cannot be compared"
    if recorded == now:
        return None
    return (f"{name}: inputs differ from the record (input digest {recorded[:19]} -> "
            f"{now[:19]}); the record does not list them")


def commit_warning(recorded: RecordedGit | None, now: GitState) -> str | None:
    """The working tree's commit against the recorded run's, and uncommitted changes."""
    if recorded is None or recorded.commit is None:
        return None
    if now.commit is None:
        return (f"the working tree is in no git repository; the record's run was at commit "
                f"{recorded.commit[:12]}")
    if now.commit != recorded.commit:
        changes = " (with uncommitted changes)" if now.dirty else ""
        return (f"the working tree is at commit {now.commit[:12]}{changes}; the record's run "
                f"was at {recorded.commit[:12]}")
    return None


def recorded_dirty_warning(recorded: RecordedGit | None) -> str | None:
    if recorded is not None and recorded.dirty:
        return ("the record's run had uncommitted changes: its files may be in no commit; "
                "those that differ here are named per image")
    return None


def image_changes(recorded: RecordedImage, image: PlannedImage,
                  earlier: InputManifest | None = None) -> InputChanges | None:
    """What differs between the recorded inputs (the record's manifest, else `earlier`: the
    one `.buildorch/inputs` kept for its input digest) and the planned ones; None: unknown."""
    old = recorded.manifest or earlier
    if old is None or image.inputs is None:
        return None
    return input_changes(old, image.inputs, image.request.context, image.request.dockerfile)


def difference_warnings(record: RecordedRun, plan: Plan, now: GitState,
                        changes: Mapping[str, InputChanges | None]) -> list[str]:
    """Every warning, before building: the commit, then each image's differences."""
    lines = [w for w in (commit_warning(record.git, now), recorded_dirty_warning(record.git))
             if w]
    for image in plan.images:
        found = changes.get(image.name)
        if found is not None:
            lines += input_warnings(image.name, found)
            continue
        unknown = unknown_inputs_warning(image.name, record.images[image.name].input_digest,
                                         image.input_digest)
        lines += [unknown] if unknown else []
    return lines
