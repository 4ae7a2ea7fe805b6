"""Probing a backend's builder: with TLS, through the same flags its builds get, and not at
all where the backend cannot carry TLS (no tool process is started)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from buildorch import proc
from buildorch.backends import choice
from buildorch.backends.request import BuilderTls

TLS = BuilderTls("ca.pem", "cert.pem", "key.pem")


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every tool found on PATH; each command recorded and answering with success."""
    calls: list[list[str]] = []

    def run(argv: Sequence[str], **_kwargs: object) -> proc.Result:
        calls.append(list(argv))
        return proc.Result(0, "buildctl github.com/moby/buildkit v0.13.2 abc\n")

    monkeypatch.setattr(choice.shutil, "which", lambda binary: f"/usr/bin/{binary}")
    monkeypatch.setattr(choice.proc, "run", run)
    return calls


def test_the_probe_carries_tls(ran: list[list[str]]) -> None:
    status = choice.check("buildctl", "tcp://h:1234", TLS)
    assert status.reachable
    assert ["buildctl", "--addr", "tcp://h:1234", "--tlscacert", "ca.pem", "--tlscert",
            "cert.pem", "--tlskey", "key.pem", "debug", "workers"] in ran


def test_a_backend_that_cannot_carry_tls_is_not_asked(ran: list[list[str]]) -> None:
    status = choice.check("nerdctl", "tcp://h:1234", TLS)
    assert not status.reachable and "nerdctl build cannot use TLS" in status.detail
    assert ran == []


def test_auto_passes_over_backends_without_tls(ran: list[list[str]]) -> None:
    backend, _status, why = choice.choose("auto", "tcp://h:1234", TLS)
    assert backend.name == "docker"  # nerdctl and finch come first, and cannot
    assert "skipped nerdctl: nerdctl build cannot use TLS" in why
