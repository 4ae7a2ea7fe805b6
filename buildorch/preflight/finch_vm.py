"""Before any build with Finch on macOS or Windows: what its VM cannot see.

Finch runs nerdctl inside a VM and forwards only a fixed list of environment variables
(runfinch/finch cmd/finch/nerdctl_remote.go, `passedEnvs`), so an `env=NAME` secret
whose NAME is not on it would reach BuildKit empty-handed (nerdctl fails on the missing
variable) after every earlier build of the run.
"""

from __future__ import annotations

from collections.abc import Iterable

from buildorch.backends.finch import VM_FORWARDED_ENV, vm_unforwarded_env_secrets
from buildorch.backends.request import BuildRequest
from buildorch.errors import ConfigError


def check_vm_env_secrets(requests: Iterable[BuildRequest]) -> None:
    for request in requests:
        unseen = vm_unforwarded_env_secrets(request)
        if unseen:
            raise ConfigError(
                f"image '{request.name}': secret '{unseen[0]}' comes from an environment "
                "variable, which Finch does not pass into its VM (it passes only "
                f"{', '.join(sorted(VM_FORWARDED_ENV))}); give it as a file (src:)")
