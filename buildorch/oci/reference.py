"""Image references: the one parser of `[host/]path[:tag][@digest]` (pure).

Docker's rules (distribution/reference: `splitDockerDomain`, `ParseNormalizedNamed`,
`FamiliarString`): the first path component is a registry host only if it has a `.` or
a `:`, is `localhost`, or has an upper-case letter; otherwise the image is on Docker Hub
(`docker.io`), where a one-component name is under `library/`. A tag is what follows the
last `:` of the last component, so `localhost:5000/app` has no tag and `busybox:1.36`
has one. `check` applies the grammar (distribution/reference regexp.go) that BuildKit
applies before it builds anything.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"  # the name a reference uses
LEGACY_DOCKER_HUB = "index.docker.io"  # an older spelling, normalised to docker.io
DOCKER_HUB_API = "registry-1.docker.io"  # the host its registry API answers on
LATEST = "latest"
NAME_TOTAL_MAX = 255

# distribution/reference regexp.go
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_PATH_RE = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_DOMAIN_RE = re.compile(_DOMAIN)
_TAG_RE = re.compile(_TAG)
_DIGEST_RE = re.compile(_DIGEST)
_HEX64_RE = re.compile(r"[a-f0-9]{64}")


class InvalidReference(ValueError):
    """Not an image reference BuildKit would accept; the message says why."""


@dataclass(frozen=True)
class ImageRef:
    name: str  # as written, without tag or digest: `localhost:5000/shop/base`, `busybox`
    domain: str  # `localhost:5000`, `docker.io`
    repository: str  # the path within the domain: `shop/base`, `library/busybox`
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, ref: str) -> ImageRef:
        """Split a reference (lenient: `check` says whether it is valid)."""
        return _parse(ref)

    @classmethod
    def _split(cls, ref: str) -> ImageRef:
        name, _, digest = ref.partition("@")
        head, _, last = name.rpartition("/")
        last, colon, tag = last.partition(":")
        name = f"{head}/{last}" if head else last
        first, _, rest = name.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"
                     or first.lower() != first):
            domain, repository = first, rest
            domain = DOCKER_HUB if domain == LEGACY_DOCKER_HUB else domain
        else:
            domain, repository = DOCKER_HUB, name
        if domain == DOCKER_HUB and "/" not in repository:
            # also `docker.io/busybox`, as splitDockerDomain
            repository = f"library/{repository}"
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

    def familiar(self) -> str:
        """The short form Docker shows: `docker.io/library/x:1` is `x:1`."""
        path = (self.familiar_path() if self.domain == DOCKER_HUB
                else f"{self.domain}/{self.repository}")
        return (path + (f":{self.tag}" if self.tag is not None else "")
                + (f"@{self.digest}" if self.digest else ""))

    def familiar_path(self) -> str:
        """The repository path after the registry host, as Docker shows it: `shop/base` for
        `localhost:5000/shop/base:1` and `shop/base`; `busybox` for `docker.io/library/busybox`."""
        if self.domain == DOCKER_HUB:
            short = self.repository.removeprefix("library/")
            if "/" not in short:
                return short
        return self.repository

    def tagged_name(self) -> str:
        """`domain/repository:tag` (tag `latest` when none), digest dropped: which tag a
        reference names, whether or not it also pins a digest."""
        return f"{self.domain}/{self.repository}:{self.tag or LATEST}"


# A large pipeline names the same references many times (tags, FROM lines, edges).
_parse = functools.lru_cache(maxsize=16384)(ImageRef._split)


def check(ref: str, *, digest: bool = True) -> None:
    """Raise InvalidReference unless `ref` is a reference BuildKit accepts
    (`ParseNormalizedNamed`); `digest=False` also refuses a digest (an image tag)."""
    problem = _problem(ref, digest)
    if problem is not None:
        raise InvalidReference(problem)


@functools.lru_cache(maxsize=16384)
def _problem(ref: str, digest: bool) -> str | None:
    try:
        _check(ref, digest=digest)
    except InvalidReference as exc:
        return str(exc)
    return None


def _check(ref: str, *, digest: bool) -> None:
    parsed = ImageRef.parse(ref)
    if not ref or ref.strip() != ref:
        raise InvalidReference("an image reference cannot be empty or have spaces around it")
    if _HEX64_RE.fullmatch(parsed.name):
        raise InvalidReference("a 64-character hexadecimal string is an image ID, not a name")
    if not _DOMAIN_RE.fullmatch(parsed.domain):
        raise InvalidReference(f"invalid registry host {parsed.domain!r}")
    if parsed.repository.lower() != parsed.repository:
        raise InvalidReference("the repository name must be lowercase")
    if not _PATH_RE.fullmatch(parsed.repository):
        raise InvalidReference("invalid repository name: use lowercase letters, digits and "
                               "separators ('.', '_', '__', '-') between them, and '/'")
    if len(parsed.name) > NAME_TOTAL_MAX:
        raise InvalidReference(f"the repository name is longer than {NAME_TOTAL_MAX} characters")
    if parsed.tag is not None and not _TAG_RE.fullmatch(parsed.tag):
        raise InvalidReference(f"invalid tag {parsed.tag!r}: up to 128 letters, digits, '_', "
                               "'.' and '-', not starting with '.' or '-'")
    if parsed.digest is not None:
        if not digest:
            raise InvalidReference("a tag cannot have a digest")
        if not _DIGEST_RE.fullmatch(parsed.digest):
            raise InvalidReference(f"invalid digest {parsed.digest!r}")


def is_valid(ref: str) -> bool:
    try:
        check(ref)
    except InvalidReference:
        return False
    return True


def repository_of(ref: str) -> str:
    """`localhost:5000/shop/base:dev` -> `localhost:5000/shop/base`, as written (digest
    dropped too)."""
    return ImageRef.parse(ref).name


def normalize_ref(ref: str) -> str:
    """Docker's reference normalisation: `busybox` is `docker.io/library/busybox:latest`."""
    return ImageRef.parse(ref).normalized()


@functools.lru_cache(maxsize=16384)
def context_key(name: str) -> str:
    """The named-context key BuildKit's Dockerfile frontend asks for when a Dockerfile
    names `name` in `FROM`, `COPY --from=` or `RUN --mount=from=`: the familiar form
    without a `:latest` tag (moby/buildkit frontend/dockerui/config.go `NamedContext`:
    `strings.TrimSuffix(reference.FamiliarString(named), ":latest")`; docker/buildx
    normalises `--build-context` keys the same way on the client). It first asks for
    `KEY::<platform>`, then `KEY`; a key that is not a reference (a stage name with
    capitals, say) is used as written."""
    if not is_valid(name):
        return name
    familiar = ImageRef.parse(name).familiar()
    return familiar.removesuffix(f":{LATEST}")
