"""The pipeline file (version 1) as pydantic models: the user-facing contract."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from buildorch.backends.catalog import BackendChoice

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
ImageName = Annotated[str, Field(pattern=NAME_PATTERN)]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Secret(_Strict):
    """A secret mount source: a file (`src`) or an environment variable (`env`)."""

    id: NonEmpty
    src: NonEmpty | None = None
    env: NonEmpty | None = None
    required: bool = True

    @model_validator(mode="after")
    def _one_source(self) -> Secret:
        if (self.src is None) == (self.env is None):
            raise ValueError("a secret needs exactly one of 'src' (a file) or 'env' (a variable)")
        return self


class Ssh(_Strict):
    """SSH forwarding: `default` is the agent at SSH_AUTH_SOCK; `paths` are keys or sockets."""

    id: NonEmpty
    paths: list[NonEmpty] = Field(default_factory=list)


class ImageContext(_Strict):
    """A named build context that is another image of this pipeline, pinned by digest."""

    image: ImageName


def _args_to_strings(value: Any) -> Any:
    # YAML reads `3.12` as a float and `true` as a bool; build args are strings.
    if isinstance(value, dict):
        return {k: (str(v).lower() if isinstance(v, bool) else str(v))
                if isinstance(v, int | float | bool) else v for k, v in value.items()}
    return value


def _ssh_shorthand(value: Any) -> Any:
    # `ssh: [default]` is short for `{id: default}`, as with `--ssh default`.
    if isinstance(value, list):
        return [{"id": v} if isinstance(v, str) else v for v in value]
    return value


class ImageFields(_Strict):
    """Fields an image and `defaults` share. In `defaults` every field is optional."""

    context: NonEmpty | None = None
    dockerfile: NonEmpty | None = None
    target: NonEmpty | None = None
    depends_on: list[ImageName] = Field(default_factory=list)
    contexts: dict[NonEmpty, ImageContext | NonEmpty] = Field(default_factory=dict)
    args: dict[NonEmpty, str] = Field(default_factory=dict)
    labels: dict[NonEmpty, str] = Field(default_factory=dict)
    tags: list[NonEmpty] = Field(default_factory=list)
    platforms: list[NonEmpty] = Field(default_factory=list)
    secrets: list[Secret] = Field(default_factory=list)
    ssh: list[Ssh] = Field(default_factory=list)
    cache: NonEmpty | None = None
    push: bool = False
    no_cache: bool = False
    network: NonEmpty | None = None
    builder: NonEmpty | None = None
    estimated_seconds: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None

    _args = field_validator("args", "labels", mode="before")(_args_to_strings)
    _ssh = field_validator("ssh", mode="before")(_ssh_shorthand)


class Image(ImageFields):
    context: NonEmpty  # required on an image


class Builder(_Strict):
    name: ImageName
    backend: BackendChoice = "auto"
    address: NonEmpty | None = None
    max_parallel: Annotated[int, Field(ge=1)] = 4


class Pipeline(_Strict):
    version: Literal[1]
    name: ImageName
    vars: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], str] = Field(
        default_factory=dict
    )
    defaults: ImageFields = Field(default_factory=ImageFields)
    builders: list[Builder] = Field(default_factory=list)
    images: Annotated[dict[ImageName, Image], Field(min_length=1)]
    groups: dict[ImageName, list[ImageName]] = Field(default_factory=dict)

    _vars = field_validator("vars", mode="before")(_args_to_strings)
