"""The pipeline file (version 1) as pydantic models: the user-facing contract.

Each field has a description: `buildorch schema` carries them, so an editor shows them.
Checks that need more than one value (files, Dockerfiles, other images) are the loader's.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from buildorch.backends.catalog import BackendChoice
from buildorch.pipeline import bake_values

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
# An image, or a template (a name starting with `_`) that only others inherit from.
IMAGE_KEY_PATTERN = r"^_?[A-Za-z0-9][A-Za-z0-9_.-]*$"
ImageName = Annotated[str, Field(pattern=NAME_PATTERN)]
ImageKey = Annotated[str, Field(pattern=IMAGE_KEY_PATTERN)]
NonEmpty = Annotated[str, Field(min_length=1)]
StringMap = dict[NonEmpty, str]
# Keys of what goes on as `--flag KEY=VALUE`, which every tool cuts at the first `=`.
NO_EQUALS = r"^[^=]+$"
FlagMap = dict[Annotated[str, Field(min_length=1, pattern=NO_EQUALS)], str]


def described(text: str, **kwargs: Any) -> Any:
    return Field(description=text, **kwargs)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Secret(_Strict):
    """A secret mount source: a file (`src`) or an environment variable (`env`)."""

    id: NonEmpty = described("The id a `RUN --mount=type=secret,id=...` names.")
    src: NonEmpty | None = described("A file holding the value (relative to the pipeline; "
                                      "~ expands).", default=None)
    env: NonEmpty | None = described("An environment variable holding the value.",
                                      default=None)
    required: bool = described("false: build without the secret when its source is absent.",
                               default=True)

    @model_validator(mode="after")
    def _one_source(self) -> Secret:
        if (self.src is None) == (self.env is None):
            raise ValueError("a secret needs exactly one of 'src' (a file) or 'env' (a variable)")
        return self


class Ssh(_Strict):
    """SSH forwarding: `default` is the agent at SSH_AUTH_SOCK; `paths` are keys or sockets."""

    id: NonEmpty = described("The id a `RUN --mount=type=ssh,id=...` names (`default`).")
    paths: list[NonEmpty] = described("Agent sockets or key files; none: SSH_AUTH_SOCK.",
                                      default_factory=list)


class ImageContext(_Strict):
    """A named build context that is another image of this pipeline, pinned by digest."""

    image: ImageName = described("The pipeline image whose digest from this run is used.")


class UlimitLimits(_Strict):
    # checked (and read from strings) by bake_values.ulimits, as go-units ParseUlimit does
    soft: int = described("Soft limit (-1: unlimited).", ge=-1, le=bake_values.INT64_MAX,
                          strict=True)
    hard: int = described("Hard limit (-1: unlimited), at least the soft one.", ge=-1,
                          le=bake_values.INT64_MAX, strict=True)


# compose's `1024` and `"1024:2048"` too; an error names the limit (`ulimits.nofile`)
Ulimit = Annotated[UlimitLimits, BeforeValidator(bake_values.ulimit_limits)]


def _ssh_shorthand(value: Any) -> Any:
    # `ssh: [default]` is short for `{id: default}`, as with `--ssh default`.
    if isinstance(value, list):
        return [{"id": v} if isinstance(v, str) else v for v in value]
    return value


class ImageFields(_Strict):
    """Fields an image and `defaults` share. In `defaults` every field is optional."""

    context: NonEmpty | None = described(
        "Build context: a folder (relative to the pipeline file), an https:// URL, or a git "
        "URL (`https://host/repo.git#ref:subdir`, `git@host:repo.git`).", default=None)
    dockerfile: NonEmpty | None = described(
        "Dockerfile path, relative to the context (default: Dockerfile).", default=None)
    dockerfile_inline: str | None = described(
        "The Dockerfile's text, written in the pipeline instead of a file.", default=None)
    target: NonEmpty | None = described("The Dockerfile stage to build (default: the last).",
                                        default=None)
    description: str | None = described("What the image is, for people (shown by `plan`).",
                                        default=None)
    inherits: list[ImageKey] = described(
        "Images or templates (`_name`) whose fields this one starts from, in order: "
        "mappings merge key by key, other fields are replaced; the image's own fields last.",
        default_factory=list)
    depends_on: list[ImageName] = described(
        "Images built before this one, besides those its Dockerfile names.",
        default_factory=list)
    contexts: dict[NonEmpty, ImageContext | NonEmpty] = described(
        "Named build contexts: a folder, a URL (`docker-image://`, `https://`, git), or "
        "`{image: NAME}` for another image of this run, pinned by digest.",
        default_factory=dict)
    args: FlagMap = described("Build args, each value exactly as written.",
                                default_factory=dict)
    labels: FlagMap = described("Image labels, each value exactly as written.",
                                  default_factory=dict)
    annotations: FlagMap = described(
        "OCI annotations on the image manifest (`KEY: value`; buildx's `index:`/`manifest:` "
        "prefixes are kept).", default_factory=dict)
    tags: list[NonEmpty] = described("Image references the result is tagged (and pushed) as.",
                                     default_factory=list)
    platforms: list[NonEmpty] = described(
        "Target platforms, `os/arch[/variant]` (default: this machine's).",
        default_factory=list)
    secrets: list[Secret] = described("Secrets RUN steps may mount; passed by reference.",
                                      default_factory=list)
    ssh: list[Ssh] = described("SSH agent sockets or keys RUN steps may use.",
                               default_factory=list)
    cache: NonEmpty | None = described("A cache profile in cache-config/, or `none`.",
                                       default=None)
    push: bool = described("Publish the tags once every image of the run has built.",
                           default=False)
    outputs: list[NonEmpty] = described(
        "Extra exports, as bake's `output`: `type=local,dest=DIR`, `type=tar,dest=FILE`, "
        "`type=oci,dest=FILE`, `type=docker`, `type=cacheonly`, or `type=image,ATTR=...` "
        "(attributes of the image export).", default_factory=list)
    attest: list[NonEmpty] = described(
        "Attestations: `type=sbom`, `type=provenance,mode=min|max`, "
        "`type=provenance,disabled=true`. Default: provenance (mode=min) on published "
        "images, none on others.", default_factory=list)
    pull: bool = described("Always look up newer versions of base images.", default=False)
    no_cache: bool = described("Build without any cache.", default=False)
    no_cache_filter: list[NonEmpty] = described("Stages to build without cache.",
                                                default_factory=list)
    network: NonEmpty | None = described("Network of RUN steps: default, host or none.",
                                         default=None)
    extra_hosts: dict[NonEmpty, NonEmpty] = described(
        "Host names RUN steps resolve: `{host: ip}`, or compose's `[\"host:ip\"]`.",
        default_factory=dict)
    shm_size: Annotated[int, Field(ge=0, le=bake_values.INT64_MAX)] | None = described(
        "Size of /dev/shm for RUN steps: bytes, or `64m`, `1g` (powers of 1024).", default=None)
    ulimits: dict[NonEmpty, Ulimit] = described(
        "Limits of RUN steps: `{nofile: 1024}`, `{nofile: \"1024:2048\"}`, `{nofile: {soft: "
        "1024, hard: 2048}}`, or bake's `[\"nofile=1024:2048\"]` (-1: unlimited).",
        default_factory=dict)
    builder: NonEmpty | None = described("The builder (of `builders`) that builds it.",
                                         default=None)
    builder_labels: list[NonEmpty] = described(
        "Only builders that have all these `labels` build it (`[gpu]`).", default_factory=list)
    reproducible: bool | None = described(
        "Build it reproducibly (default: the pipeline's `reproducible`): see there.",
        default=None)
    estimated_seconds: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = described(
        "Expected build time before any run was recorded (orders the schedule).",
        default=None)

    _ssh = field_validator("ssh", mode="before")(_ssh_shorthand)
    _hosts = field_validator("extra_hosts", mode="before")(bake_values.extra_hosts)
    _shm = field_validator("shm_size", mode="before")(bake_values.byte_size)
    _ulimits = field_validator("ulimits", mode="before")(bake_values.ulimits)
    _outputs = field_validator("outputs", mode="after")(bake_values.check_outputs)
    _attest = field_validator("attest", mode="after")(bake_values.check_attests)


# a matrix axis, named as `${axis}` in the entry's strings
AxisName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
MatrixScalar = str | int | float | bool  # a plain scalar is taken as written: 3.10 stays 3.10
MatrixValue = MatrixScalar | dict[AxisName, MatrixScalar]


class Image(ImageFields):
    """One image (a Dockerfile target), or a template (`_name`) others inherit from."""

    # Expanded by pipeline/matrix.py before validation: an expanded image has neither.
    matrix: Annotated[dict[AxisName, Annotated[list[MatrixValue], Field(min_length=1)]],
                      Field(min_length=1)] | None = described(
        "One image per combination of these values, as bake's matrix: `{py: [\"3.11\", "
        "\"3.12\"], os: [alpine, debian]}`; `${py}` in any string of the entry is the "
        "combination's value (a mapping value's keys: `${axis.key}`). The entry's key stands "
        "for all its images in groups, depends_on, the command line and --set.",
        default=None)
    name: NonEmpty | None = described(
        "With `matrix`: the template of each image's name, as `py-lib-${py}-${os}` (needed "
        "when there is more than one combination).", default=None)


class Tls(_Strict):
    """TLS to a builder at a `tcp://` address: the files (relative to the pipeline; ~
    expands) and the name its certificate carries."""

    ca: NonEmpty = described("The CA certificate that signed the daemon's certificate.")
    cert: NonEmpty | None = described("This client's certificate (with `key`).", default=None)
    key: NonEmpty | None = described("This client's private key (with `cert`).", default=None)
    server_name: NonEmpty | None = described(
        "The name the daemon's certificate is checked against, where it is not the "
        "address's host (buildctl only: docker has no such flag).", default=None)

    @model_validator(mode="after")
    def _pair(self) -> Tls:
        # BuildKit's client loads them as one key pair (client/client.go loadCredentials)
        if (self.cert is None) != (self.key is None):
            raise ValueError("'cert' and 'key' go together: give both or neither")
        return self


class Builder(_Strict):
    name: ImageName = described("How images and `--builder` name it.")
    backend: BackendChoice = described("The tool that drives BuildKit.", default="auto")
    address: NonEmpty | None = described(
        "BuildKit host (nerdctl, finch, buildctl) or docker host, context or buildx builder.",
        default=None)
    tls: Tls | None = described(
        "TLS for a `tcp://` address (backends buildctl and docker; nerdctl and finch "
        "cannot pass it to the buildctl they run).", default=None)
    platforms: list[NonEmpty] = described(
        "The platforms it builds, `os/arch[/variant]`; none: any (an image's platforms are "
        "only checked against builders that list theirs).", default_factory=list)
    labels: list[NonEmpty] = described("Labels images ask for in `builder_labels`.",
                                       default_factory=list)
    max_parallel: Annotated[int, Field(ge=1)] = described("Builds at once on this builder.",
                                                           default=4)


class Pipeline(_Strict):
    version: Literal[1] = described("The pipeline file format: 1.")
    name: ImageName = described("The pipeline's name, in cache keys and records.")
    vars: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], str] = described(
        "Variables for ${NAME} in string values; --var NAME=VALUE overrides.",
        default_factory=dict)
    defaults: ImageFields = described("Fields merged under every image.",
                                      default_factory=ImageFields)
    skip_unchanged: bool = described(
        "Like --skip-unchanged on every build: an image whose input digest matches an earlier "
        "successful build whose output still exists is not built again.", default=False)
    reproducible: bool = described(
        "Reproducible builds (an image's own `reproducible` wins): the build arg "
        "SOURCE_DATE_EPOCH is the commit time of the repository's HEAD (unless the image's "
        "`args`, --var, `vars` or the environment give it), the image export rewrites file "
        "timestamps to it (`rewrite-timestamp`, BuildKit 0.13; not on Docker's docker driver, "
        "`doctor` says where), and no provenance attestation is added unless `attest` asks for "
        "one: its build times and invocation id would make every build's digest new.",
        default=False)
    builders: list[Builder] = described("Where builds run (default: one auto-detected).",
                                        default_factory=list)
    images: Annotated[dict[ImageKey, Image], Field(min_length=1)] = described(
        "The images, by name; names starting with `_` are templates, never built.")
    groups: dict[ImageName, list[ImageName]] = described(
        "Named selections of images and groups (`default` is built when none is named).",
        default_factory=dict)
