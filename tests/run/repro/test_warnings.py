"""Where this tree differs from a recorded run: the commit, files and build settings."""

from __future__ import annotations

from buildorch.planning.input_digests import InputManifest, Tree
from buildorch.run.recorded import RecordedGit
from buildorch.run.repro.record import GitState
from buildorch.run.repro.warnings import (
    InputChanges,
    capped,
    commit_warning,
    input_changes,
    input_warnings,
    recorded_dirty_warning,
    unknown_inputs_warning,
)

SHA = "c0ffee" * 6 + "abcd"


def manifest(files: dict[str, str], settings: tuple[tuple[str, str], ...] = (),
             dockerfile: str = "d1", named: tuple[tuple[str, str], ...] = (),
             dependencies: tuple[tuple[str, str], ...] = ()) -> InputManifest:
    return InputManifest(dockerfile, Tree("t", tuple(sorted(files.items()))), named, settings,
                         dependencies)


def test_changed_files_are_named_from_the_root_with_the_dockerfile_first() -> None:
    old = manifest({"app.py": "1", "gone.txt": "1", "same": "1"}, named=(("data", "t1"),
                                                                         ("base", "image:x")))
    new = manifest({"app.py": "2", "new.txt": "1", "same": "1"}, dockerfile="d2",
                   named=(("data", "t2"), ("base", "image:y")))
    changes = input_changes(old, new, "services/api", "services/api/Dockerfile")
    assert changes.files == ("services/api/Dockerfile", "services/api/app.py",
                             "services/api/gone.txt", "services/api/new.txt",
                             "named context data")
    assert input_changes(old, new, ".", "Dockerfile").files[1] == "app.py"
    assert changes.own and not changes.settings


def test_a_dockerfile_inside_its_context_is_named_once() -> None:
    # The usual layout: the Dockerfile is also a file of the context, so an edit to it
    # changes both the manifest's dockerfile and its context's `Dockerfile` entry.
    old = manifest({"Dockerfile": "1", "app.py": "1"})
    new = manifest({"Dockerfile": "2", "app.py": "1"}, dockerfile="d2")
    changes = input_changes(old, new, "services/api", "services/api/Dockerfile")
    assert changes.files == ("services/api/Dockerfile",)


def test_settings_are_compared_per_kind_as_lists() -> None:
    old = manifest({}, (("backend", "docker"), ("arg:V", "1"), ("platform", "linux/amd64")))
    new = manifest({}, (("backend", "docker"), ("arg:V", "2"), ("platform", "linux/amd64"),
                        ("platform", "linux/arm64"), ("target", "test")))
    changes = input_changes(old, new, ".", "Dockerfile")
    assert changes.settings == ("arg:V '1' -> '2'",
                                "platform 'linux/amd64' -> 'linux/amd64', 'linux/arm64'",
                                "target (unset) -> 'test'")


def test_a_dependency_alone_is_not_the_image_s_own_change() -> None:
    changes = input_changes(manifest({}, dependencies=(("base", "a"),)),
                            manifest({}, dependencies=(("base", "b"),)), ".", "Dockerfile")
    assert changes and not changes.own and changes.dependencies == ("base",)
    assert input_warnings("api", changes) == []


def test_warnings_are_one_line_each_and_capped() -> None:
    files = tuple(f"api/f{n}.py" for n in range(8))
    lines = input_warnings("api", InputChanges(files, ("arg:V '1' -> '2'", "target 'a' -> 'b'")))
    assert lines == [
        "api: files differ from the record: api/f0.py, api/f1.py, api/f2.py, api/f3.py, "
        "api/f4.py (+3 more)",
        "api: build settings differ from the record: arg:V '1' -> '2'; target 'a' -> 'b'",
    ]
    assert capped(["a", "b"], 2) == "a, b"


def test_the_commit_warning_says_where_each_tree_is() -> None:
    recorded = RecordedGit(commit=SHA, dirty=False)
    assert commit_warning(recorded, GitState(commit=SHA)) is None
    assert commit_warning(None, GitState(commit="x")) is None
    assert commit_warning(recorded, GitState(commit="1" * 40, dirty=True)) == (
        "the working tree is at commit 111111111111 (with uncommitted changes); the record's "
        f"run was at {SHA[:12]}")
    assert "in no git repository" in (commit_warning(recorded, GitState()) or "")
    assert recorded_dirty_warning(RecordedGit(commit=SHA, dirty=True))
    assert recorded_dirty_warning(recorded) is None


def test_without_manifests_only_input_digests_are_compared() -> None:
    digest = "sha256:" + "1" * 64
    assert unknown_inputs_warning("api", digest, digest) is None
    assert "input digest sha256:111111111111 -> sha256:222222222222" in (
        unknown_inputs_warning("api", digest, "sha256:" + "2" * 64) or "")
    assert "remote context" in (unknown_inputs_warning("api", None, digest) or "")
