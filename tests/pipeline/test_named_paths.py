"""The local paths an image's fields name, with the field that names each."""

from __future__ import annotations

from buildorch.pipeline.model import Image
from buildorch.pipeline.named_paths import named_paths


def test_folders_secret_files_and_keys_but_nothing_remote() -> None:
    spec = Image.model_validate({
        "context": "app",
        "contexts": {"lib": "../lib", "base": {"image": "b"}, "src": "https://h/r.git",
                     "gh": "git@github.com:org/r.git", "img": "docker-image://r/x:1"},
        "secrets": [{"id": "t", "env": "TOKEN"}, {"id": "n", "src": "~/.npmrc"}],
        "ssh": ["default", {"id": "gh", "paths": ["~/.ssh/a", "~/.ssh/b"]}],
    })
    assert list(named_paths(spec)) == [
        (("contexts", "lib"), "../lib"), (("secrets", 1), "~/.npmrc"),
        (("ssh", 1), "~/.ssh/a"), (("ssh", 1), "~/.ssh/b")]
