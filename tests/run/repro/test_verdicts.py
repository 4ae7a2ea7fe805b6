"""Whether a reproduction's digest matches the record, and the reason when it does not."""

from __future__ import annotations

import pytest

from buildorch.backends.request import AttrSpec, BuildRequest
from buildorch.run.recorded import RecordedImage
from buildorch.run.repro.image_facts import ImageFacts
from buildorch.run.repro.verdicts import (
    Evidence,
    attests_provenance,
    base_changes,
    needs_facts,
    verdict,
)
from buildorch.run.repro.warnings import InputChanges

OLD = "sha256:" + "0" * 64
NEW = "sha256:" + "1" * 64
LAYERS = ("sha256:" + "a" * 64, "sha256:" + "b" * 64)
CONFIG = (("Cmd", '["sh"]'),)


def run(digest: str | None, state: str = "succeeded", **fields: object) -> RecordedImage:
    return RecordedImage.model_validate({"name": "api", "state": state, "digest": digest,
                                         **fields})


def facts(layers: tuple[str, ...] = LAYERS, created: str = "2026-12-01T05:00:00Z",
          config: tuple[tuple[str, str], ...] = CONFIG,
          platform: str = "linux/amd64") -> ImageFacts:
    return ImageFacts(layers, created, config, platform, "the local image store")


def test_equal_digests_match_and_say_the_digest() -> None:
    result = verdict(run(OLD), run(OLD), Evidence())
    assert (result.matches, result.line()) == (True, f"api: digest matches ({OLD})")


@pytest.mark.parametrize(("evidence", "new", "text"), [
    (Evidence(InputChanges(("api/app.py", "api/x.py"), ("arg:V '1' -> '2'",))), run(NEW),
     "inputs changed (api/app.py, api/x.py, arg:V '1' -> '2')"),
    (Evidence(InputChanges(tuple(f"f{n}" for n in range(5)))), run(NEW),
     "inputs changed (f0, f1, f2 (+2 more))"),
    (Evidence(InputChanges(dependencies=("base",)), ("base",)), run(NEW),
     "built on base, whose digest differs"),
    (Evidence(InputChanges(), base_changes=("busybox: sha256:000 -> sha256:111",)), run(NEW),
     "its base image resolved otherwise (busybox: sha256:000 -> sha256:111)"),
    (Evidence(InputChanges(), pinned_rewritten=True), run(NEW),
     "its base image was pinned with a named context, and BuildKit rewrites the timestamps "
     "of a named context's layers too (it keeps a base image's layers only for a FROM it "
     "resolves itself)"),
    (Evidence(InputChanges(), (), facts(), facts(created="2026-12-02T00:00:00Z"),
              reproducible=True), run(NEW), "only the image config's timestamps differ"),
    (Evidence(InputChanges(), reproducible=True), run(NEW, cached_steps=0, total_steps=1),
     "1 of 1 steps ran again rather than coming from the cache; the recorded image is in "
     "neither the local image store nor a registry buildorch can read, so what differs "
     "cannot be shown"),
    (Evidence(InputChanges(), (), facts(), facts(created="2026-12-02T00:00:00Z")), run(NEW),
     "only the image config's timestamps differ (set reproducible: true)"),
    (Evidence(InputChanges(), (), facts(), facts(layers=(LAYERS[0], "sha256:" + "c" * 64))),
     run(NEW, cached_steps=1, total_steps=2),
     "1 of 2 layers differ: 1 of 2 steps ran again rather than coming from the cache (a "
     "step's files carry the time it ran: set reproducible: true)"),
    (Evidence(InputChanges(), (), facts(), facts(config=(("Cmd", '["x"]'), ("User", '"1"')))),
     run(NEW), "the image config differs: Cmd, User"),
    (Evidence(InputChanges(), (), facts(), facts(platform="linux/arm64")), run(NEW),
     "built for linux/arm64, recorded for linux/amd64"),
    (Evidence(InputChanges(), (), facts(), facts(), provenance=True), run(NEW),
     "the layers and config are the same; its provenance attestation records each build's "
     "times and id (reproducible: true leaves it out)"),
    (Evidence(InputChanges(), (), facts(), facts()), run(NEW),
     "the layers and config are the same; the manifest differs (compression, media types or "
     "annotations)"),
    (Evidence(InputChanges()), run(NEW, cached_steps=2, total_steps=2),
     "the recorded image is in neither the local image store nor a registry buildorch can "
     "read, so what differs cannot be shown"),
    (Evidence(None), run(NEW, cached_steps=0, total_steps=1),
     "1 of 1 steps ran again rather than coming from the cache (a step's files carry the "
     "time it ran: set reproducible: true); the recorded image is in neither the local "
     "image store nor a registry buildorch can read, so what differs cannot be shown; the "
     "record does not list its inputs"),
])
def test_a_differing_digest_gives_the_most_telling_reason(evidence: Evidence,
                                                            new: RecordedImage,
                                                            text: str) -> None:
    result = verdict(run(OLD), new, evidence)
    assert (result.matches, result.text) == (False, f"digest differs: {text}")


def test_images_without_a_digest_or_a_build_are_not_compared() -> None:
    assert verdict(run(None), run(None), Evidence()).text.startswith("no digest to compare")
    assert verdict(run(None), run(None), Evidence()).matches is None
    assert verdict(run(OLD), run(None), Evidence()).text == (
        f"digest differs: {OLD} recorded, no digest now")
    failed = verdict(run(OLD), run(None, "failed", reason="exit code: 1"), Evidence())
    assert (failed.matches, failed.text) == (None, "not reproduced: failed: exit code: 1")
    skipped = verdict(run(OLD, "skipped"), run(NEW), Evidence())
    assert skipped.text == (f"built as {NEW}; the recorded run did not build it (skipped): "
                            "nothing to compare")
    assert verdict(run(OLD, "unchanged"), run(OLD), Evidence()).matches is True


def test_a_recorded_failure_says_whether_it_happened_again() -> None:
    # repro of a CI run that failed: the one question is whether it fails here too
    again = verdict(run(None, "failed", reason="exit code: 3"),
                    run(None, "failed", reason="exit code: 3"), Evidence())
    assert (again.matches, again.text) == (None, "failed again, as in the recorded run: "
                                                 "exit code: 3")
    fixed = verdict(run(None, "failed"), run(NEW), Evidence())
    assert (fixed.matches, fixed.text) == (None, f"built as {NEW}, where the recorded run "
                                                 "failed: its failure did not happen again")
    cache_only = verdict(run(None, "interrupted"), run(None), Evidence())
    assert cache_only.text == ("built, with no digest; the recorded run did not build it "
                               "(interrupted): nothing to compare")


def test_facts_are_needed_only_where_nothing_else_explains_a_difference() -> None:
    assert needs_facts(run(OLD), run(NEW), Evidence(InputChanges()))
    assert needs_facts(run(OLD), run(NEW), Evidence(None))
    assert not needs_facts(run(OLD), run(OLD), Evidence())
    assert not needs_facts(run(OLD), run(NEW), Evidence(InputChanges(("a",))))
    assert not needs_facts(run(OLD), run(NEW), Evidence(None, ("base",)))
    assert not needs_facts(run(None), run(NEW), Evidence())
    assert not needs_facts(run(OLD), run(NEW), Evidence(None, base_changes=("x",)))
    assert not needs_facts(run(OLD), run(NEW), Evidence(None, pinned_rewritten=True))


def test_base_images_resolved_otherwise_are_listed() -> None:
    recorded = run(OLD, base_images={"busybox": OLD, "alpine": OLD, "gone": OLD})
    new = run(NEW, base_images={"busybox": OLD, "alpine": NEW})
    assert base_changes(recorded, new) == (f"alpine: {OLD[:19]} -> {NEW[:19]}",)


def test_provenance_is_attached_as_asked_or_by_buildx_on_published_images() -> None:
    request = BuildRequest(name="api", context=".", dockerfile="Dockerfile")
    assert attests_provenance(request, published=True, tool_default="tool")
    assert not attests_provenance(request, published=False, tool_default="tool")
    assert not attests_provenance(request, published=True, tool_default="none")
    off = BuildRequest(name="api", context=".", dockerfile="Dockerfile",
                       attest=(AttrSpec("provenance", (("disabled", "true"),)),))
    assert not attests_provenance(off, published=True, tool_default="tool")
    on = BuildRequest(name="api", context=".", dockerfile="Dockerfile",
                      attest=(AttrSpec("provenance", (("mode", "max"),)),))
    assert attests_provenance(on, published=False, tool_default="none")
