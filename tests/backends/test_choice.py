"""Probing a backend's builder: with TLS, through the same flags its builds get, and not at
all where the backend cannot carry TLS (no tool process is started)."""

from __future__ import annotations

import subprocess
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


def test_a_builder_silent_past_the_probe_timeout_does_not_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A `tcp://` builder whose packets are dropped: the tool waits longer than buildorch
    does; that is an answer (none), not a traceback."""
    def run(argv: Sequence[str], **kwargs: object) -> proc.Result:
        if "workers" in argv:
            raise subprocess.TimeoutExpired(list(argv), float(str(kwargs["timeout"])))
        return proc.Result(0, "buildctl github.com/moby/buildkit v0.13.2 abc\n")

    monkeypatch.setattr(choice.shutil, "which", lambda binary: f"/usr/bin/{binary}")
    monkeypatch.setattr(choice.proc, "run", run)
    status = choice.check("buildctl", "tcp://10.0.0.1:1234")
    assert not status.reachable
    assert status.detail == f"builder does not answer within {choice.PROBE_TIMEOUT}s"
    assert status.version is not None and status.version.number == (0, 13, 2)


def test_the_engines_platforms_from_the_probe_or_one_more_call(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    answers = {"workers": "ID\tPLATFORMS\nw1\tlinux/amd64,linux/386\n", "info": "{}",
               "inspect": "Name: default\nPlatforms: linux/amd64, linux/arm64\n"}

    def run(argv: Sequence[str], **_kwargs: object) -> proc.Result:
        calls.append(list(argv))
        return proc.Result(0, next((out for word, out in answers.items() if word in argv),
                                   "v0.13.2"))

    monkeypatch.setattr(choice.shutil, "which", lambda binary: f"/usr/bin/{binary}")
    monkeypatch.setattr(choice.proc, "run", run)
    buildctl = choice.check("buildctl", "tcp://h:1234")
    assert buildctl.platforms == ("linux/amd64", "linux/386")
    calls.clear()
    assert choice.engine_platforms(buildctl, "tcp://h:1234") == buildctl.platforms
    assert calls == []  # the probe's answer had them
    docker = choice.check("docker", "unix:///d.sock")
    assert docker.reachable and docker.platforms is None  # `docker info` names none
    assert choice.engine_platforms(docker, "unix:///d.sock") == ("linux/amd64", "linux/arm64")
    assert calls[-1] == ["docker", "--host", "unix:///d.sock", "buildx", "inspect"]
    calls.clear()
    down = choice.BackendStatus("docker", "/usr/bin/docker", detail="builder does not answer")
    assert choice.engine_platforms(down, "unix:///d.sock") is None and calls == []
