"""`docker buildx build` argv for a BuildRequest (pure).

Flags as documented for buildx: `--ssh default|<id>[=<socket>|<key>[,<key>]]`,
`--secret id=<id>,src=<path>` or `id=<id>,env=<VAR>`, `--build-context name=value`.
"""

from __future__ import annotations

from buildorch.backends.request import BuildRequest, SecretRef, SshRef


def _builder_flags(address: str | None) -> tuple[list[str], list[str]]:
    """A docker host URL goes before `buildx` (`--host`); a buildx builder name after it."""
    if address is None:
        return [], []
    if "://" in address:
        return ["--host", address], []
    return [], ["--builder", address]


def secret_flag(secret: SecretRef) -> str:
    source = f"src={secret.src}" if secret.src is not None else f"env={secret.env}"
    return f"id={secret.id},{source}"


def ssh_flag(ssh: SshRef) -> str:
    return f"{ssh.id}={','.join(ssh.paths)}" if ssh.paths else ssh.id


def docker_argv(req: BuildRequest) -> list[str]:
    host, builder = _builder_flags(req.builder)
    argv = ["docker", *host, "buildx", "build", *builder, "--progress", "plain"]
    argv += ["--file", req.dockerfile]
    if req.target:
        argv += ["--target", req.target]
    for key, value in req.args:
        argv += ["--build-arg", f"{key}={value}"]
    for name, source in req.named_contexts:
        argv += ["--build-context", f"{name}={source}"]
    for secret in req.secrets:
        argv += ["--secret", secret_flag(secret)]
    for ssh in req.ssh:
        argv += ["--ssh", ssh_flag(ssh)]
    if req.platforms:
        argv += ["--platform", ",".join(req.platforms)]
    for key, value in req.labels:
        argv += ["--label", f"{key}={value}"]
    for tag in req.tags:
        argv += ["--tag", tag]
    for spec in req.cache_from:
        argv += ["--cache-from", spec]
    for spec in req.cache_to:
        argv += ["--cache-to", spec]
    for spec in req.outputs:
        argv += ["--output", spec]
    if req.push:
        argv.append("--push")
    if req.load:
        argv.append("--load")
    if req.network:
        argv += ["--network", req.network]
    if req.no_cache:
        argv.append("--no-cache")
    if req.metadata_file:
        argv += ["--metadata-file", req.metadata_file]
    argv.append(req.context)
    return argv


def _host(address: str | None) -> list[str]:
    host, _ = _builder_flags(address)
    return host


def docker_push_argv(tag: str, address: str | None) -> list[str]:
    return ["docker", *_host(address), "push", tag]


def docker_version_argv(address: str | None) -> list[str]:
    return ["docker", *_host(address), "buildx", "version"]


def docker_probe_argv(address: str | None) -> list[str]:
    """Succeeds when the builder answers: the daemon, or the named buildx builder."""
    host, builder = _builder_flags(address)
    if builder:
        return ["docker", "buildx", "inspect", "--bootstrap", builder[1]]
    return ["docker", *host, "info", "--format", "{{json .}}"]


def docker_inspect_argv(ref: str, address: str | None) -> list[str]:
    """Prints the stored image's digest (the index digest with the containerd store)."""
    return ["docker", *_host(address), "image", "inspect", "--format", "{{.Id}}", ref]


def docker_untag_argv(ref: str, address: str | None) -> list[str]:
    return ["docker", *_host(address), "image", "rm", ref]
