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

    type: CacheType
    # registry: per image <ref>:<image>-<scope key>
    ref: Annotated[str, Field(min_length=1)] | None = None
    mode: Literal["min", "max"] = "max"
    scope: Literal["branch", "global"] = "branch"
    default_branch: str = "main"
    export: Literal["auto", "always", "never"] = "auto"
    export_branches: list[str] = Field(default_factory=list)
    oci_mediatypes: bool | None = None
    image_manifest: bool | None = None
    # local
    dir: str | None = None
    # s3
    bucket: str | None = None
    region: str | None = None
    prefix: str = ""
    endpoint_url: str | None = None
    use_path_style: bool = False
    transport: Literal["auto", "native", "sync"] = "auto"
    credentials: Literal["daemon", "forward"] = "daemon"
    # gha
    url: str | None = None

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
