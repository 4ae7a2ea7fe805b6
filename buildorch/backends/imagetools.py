"""`docker buildx imagetools create|inspect`: joining per-platform images into one index
(pure argv and output parsing).

`create [OPTIONS] [SOURCE...]` with `--tag`/`-t` (repeatable), `--progress`, `--dry-run`,
`--append`, `--annotation`, `--file`/`-f`, and the imagetools root's `--builder`, as
buildx 0.13.1 prints them (`docker buildx imagetools create --help`; docker/buildx
commands/imagetools/create.go createCmd, which later versions extend with
`--prefer-index`). A SOURCE is a digest, a reference (`repo@sha256:...`) or a descriptor
as JSON (create.go parseSource). The index's sources are resolved in the registry and
combined (util/imagetools/create.go Combine: a source that is itself an index adds each
of its manifests, attestation manifests included; a lone manifest gets its platform from
its config), then pushed under every tag, after the blobs of any source in another
repository are copied to it. buildx 0.13 has no `--metadata-file` here: the index digest
is what create.go logs for each tag, `pushing <digest> to <tag>`, and what
`imagetools inspect --raw` prints the bytes of (util/imagetools/printers.go Print writes
them without a newline, "to keep digest").

The registry is reached from the client (buildx's resolver, with the docker config's
credentials); a `localhost` registry is spoken to over plain HTTP (seen with buildx
0.13.1 and the stack's registry at localhost:5000). The docker host flags go before
`buildx`, a buildx builder name (whose registry configuration is then used) after the
subcommand, as for `docker buildx build` (flags.docker_builder_flags).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from buildorch.backends.flags import docker_builder_flags, flag_pairs
from buildorch.backends.request import BuilderTls

# create.go runCreate: sub.Log(1, "pushing %s to %s\n", desc.Digest, t.String())
_PUSHING = re.compile(r"pushing (sha256:[0-9a-f]{64}) to (\S+)")


def imagetools_create_argv(tags: Sequence[str], sources: Sequence[str],
                           address: str | None = None, tls: BuilderTls | None = None
                           ) -> list[str]:
    """One index of `sources` (`repo@sha256:...`) pushed under every tag; plain progress,
    whose log names the index digest (`index_digests`)."""
    if not tags:
        raise ValueError("an index needs at least one tag")  # create.go refuses it too
    if not sources:
        raise ValueError("an index needs at least one source")
    host, builder = docker_builder_flags(address, tls)
    return ["docker", *host, "buildx", "imagetools", "create", *builder,
            "--progress", "plain", *flag_pairs("--tag", tags), *sources]


def imagetools_inspect_raw_argv(ref: str, address: str | None = None,
                                tls: BuilderTls | None = None) -> list[str]:
    """The manifest or index `ref` names, as the registry's bytes on stdout."""
    host, builder = docker_builder_flags(address, tls)
    return ["docker", *host, "buildx", "imagetools", "inspect", *builder, "--raw", ref]


def index_digests(output: str) -> dict[str, str]:
    """What `imagetools create` pushed: tag (as buildx writes it, normalised) -> digest."""
    return {tag: digest for digest, tag in _PUSHING.findall(output)}
