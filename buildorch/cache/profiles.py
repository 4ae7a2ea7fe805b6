"""Cache profiles (`cache-config/NAME.yaml`): model and lookup.

What a profile may contain and where it is found; what each build imports and exports
is `cache.plan`, and the backends render that into their flags.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from buildorch.backends.capabilities import CacheType
from buildorch.localpaths import exists, is_file

PROFILE_FOLDER = "cache-config"


class CacheProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: CacheType = Field(description="Where the cache lives: registry, s3, local, "
                                        "inline or gha.")
    ref: Annotated[str, Field(min_length=1)] | None = Field(
        None, description="registry: the repository; each image uses <ref>:<image>-<scope>.")
    mode: Literal["min", "max"] = Field(
        "max", description="max: export every stage's layers; min: the result's only.")
    scope: Literal["branch", "global"] = Field(
        "branch", description="branch: import own branch then the default; export own branch.")
    default_branch: str = Field("main", description="The branch others fall back to.")
    export: Literal["auto", "always", "never"] = Field(
        "auto", description="auto: export on CI or on export_branches, never from a pull "
                            "request; --cache-readonly forces never.")
    export_branches: list[str] = Field(
        default_factory=list, description="Branches that export outside CI (auto).")
    oci_mediatypes: bool | None = Field(
        None, description="registry: OCI media types in the cache manifest.")
    image_manifest: bool | None = Field(
        None, description="registry: store the cache as an image manifest.")
    dir: str | None = Field(None, description="local: the cache folder.")
    bucket: str | None = Field(None, description="s3: the bucket.")
    region: str | None = Field(None, description="s3: the bucket's region.")
    prefix: str = Field("", description="s3: a prefix for every key.")
    endpoint_url: str | None = Field(None, description="s3: an S3-compatible endpoint.")
    use_path_style: bool = Field(False, description="s3: path-style URLs (most S3-compatible "
                                                    "stores).")
    transport: Literal["auto", "native", "sync"] = Field(
        "auto", description="s3: native (BuildKit type=s3), sync (a local cache folder "
                            "copied with boto3), or auto.")
    credentials: Literal["daemon", "forward"] = Field(
        "daemon", description="s3 native: daemon uses BuildKit's own; forward passes the "
                              "client's on the command line.")
    url: str | None = Field(None, description="gha: the cache service URL.")

    @model_validator(mode="after")
    def _required_per_type(self) -> CacheProfile:
        needed = {"registry": ("ref",), "s3": ("bucket",), "local": ("dir",)}.get(self.type, ())
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.type} cache profile needs '{missing[0]}'")
        return self


def profile_search_path(pipeline_dir: Path, override: Path | None) -> list[Path]:
    """`cache-config/` beside the pipeline, then in each parent up to the repository root."""
    if override is not None:
        return [override]
    folders: list[Path] = []
    for folder in (pipeline_dir, *pipeline_dir.parents):
        folders.append(folder / PROFILE_FOLDER)
        if exists(folder / ".git"):
            break
    return folders


def find_profile(name: str, search_path: list[Path]) -> Path | None:
    for folder in search_path:
        for suffix in (".yaml", ".yml"):
            candidate = folder / f"{name}{suffix}"
            if is_file(candidate):
                return candidate
    return None
