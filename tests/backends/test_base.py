"""What the Backend base module reads from a tool's output."""

from __future__ import annotations

from buildorch.backends.base import pushed_digest

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


def test_the_pushed_digest_is_docker_pushs_last() -> None:
    # as docker 26.1 printed it on the local stack
    log = ("The push refers to repository [localhost:5000/bo/bb]\n6a4f8828e5a1: Pushed\n"
           f"buildorch-x-linux-386: digest: {A} size: 853\n"
           f"latest: digest: {B} size: 853\n")
    assert pushed_digest(log) == B
    assert pushed_digest("denied: requested access to the resource is denied\n") is None
