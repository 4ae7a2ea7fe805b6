"""Image references: the one parser of `[host/]path[:tag][@digest]` (pure).

Docker's rules (distribution/reference, `splitDockerDomain`): the first path component
is a registry host only if it has a `.` or a `:` or is `localhost`; otherwise the image
is on Docker Hub (`docker.io`), where a one-component name is under `library/`. A tag is
what follows the last `:` of the last component, so `localhost:5000/app` has no tag and
`busybox:1.36` has one.
"""

from __future__ import annotations

from dataclasses import dataclass

DOCKER_HUB = "docker.io"  # the name a reference uses
DOCKER_HUB_API = "registry-1.docker.io"  # the host its registry API answers on
LATEST = "latest"


@dataclass(frozen=True)
class ImageRef:
    name: str  # as written, without tag or digest: `localhost:5000/shop/base`, `busybox`
    domain: str  # `localhost:5000`, `docker.io`
    repository: str  # the path within the domain: `shop/base`, `library/busybox`
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, ref: str) -> ImageRef:
        name, _, digest = ref.partition("@")
        head, _, last = name.rpartition("/")
        last, colon, tag = last.partition(":")
        name = f"{head}/{last}" if head else last
        first, _, rest = name.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            domain, repository = first, rest
        else:
            domain, repository = DOCKER_HUB, name if rest else f"library/{name}"
        return cls(name, domain, repository, tag if colon else None, digest or None)

    @property
    def host(self) -> str:
        """Where the registry API answers for this reference."""
        return DOCKER_HUB_API if self.domain == DOCKER_HUB else self.domain

    def normalized(self) -> str:
        """Docker's full form: `busybox` is `docker.io/library/busybox:latest`; a digest
        without a tag gets no tag."""
        tag = self.tag if self.tag is not None else (None if self.digest else LATEST)
        return (f"{self.domain}/{self.repository}" + (f":{tag}" if tag else "")
                + (f"@{self.digest}" if self.digest else ""))


def repository_of(ref: str) -> str:
    """`localhost:5000/shop/base:dev` -> `localhost:5000/shop/base`, as written (digest
    dropped too)."""
    return ImageRef.parse(ref).name


def normalize_ref(ref: str) -> str:
    """Docker's reference normalisation: `busybox` is `docker.io/library/busybox:latest`."""
    return ImageRef.parse(ref).normalized()
