"""Finch's VM on macOS and Windows sees only the environment variables Finch forwards
(runfinch/finch cmd/finch/nerdctl_remote.go, `passedEnvs`)."""

from __future__ import annotations

import pytest

from buildorch.backends.finch import runs_in_vm, vm_forwarded_env
from buildorch.backends.request import BuildRequest, SecretRef
from buildorch.errors import ConfigError
from buildorch.preflight.finch_vm import check_vm_env_secrets


def request(*secrets: SecretRef) -> BuildRequest:
    return BuildRequest(name="api", context="ctx", dockerfile="ctx/Dockerfile",
                        secrets=secrets)


def test_env_secrets_finch_does_not_forward_stop_the_run() -> None:
    check_vm_env_secrets([request(SecretRef("aws", env="AWS_ACCESS_KEY_ID"),
                                  SecretRef("npm", src="/home/me/.npmrc"))])
    with pytest.raises(ConfigError, match=r"image 'api': secret 'npm' comes from an "
                                          r"environment variable, which Finch does not pass"):
        check_vm_env_secrets([request(SecretRef("npm", env="NPM_TOKEN"))])


def test_what_runs_in_the_vm_and_what_reaches_it() -> None:
    assert runs_in_vm("Darwin") and runs_in_vm("Windows") and not runs_in_vm("Linux")
    assert vm_forwarded_env({"AWS_PROFILE": "p", "ACTIONS_RUNTIME_TOKEN": "t"}) == {
        "AWS_PROFILE": "p"}
