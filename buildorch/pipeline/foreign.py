"""A compose file or a bake file given where a pipeline belongs: say so, and how to
convert it, instead of listing what a pipeline would need (pure, but for one stat)."""

from __future__ import annotations

from pathlib import Path

from buildorch.errors import ConfigError
from buildorch.pipeline.yaml_source import Located

BAKE_PRINT = "docker buildx bake -f {file} --print > bake.json"


def check_not_foreign(path: Path, display: str) -> None:
    """A bake HCL file is not YAML; bake itself turns it into JSON."""
    if path.suffix.lower() == ".hcl":
        raise ConfigError("this is a bake file (HCL), not a buildorch pipeline: convert it "
                          f"with `{BAKE_PRINT.format(file=display)}` and "
                          "`buildorch import bake bake.json > buildorch.yaml`", file=display)


def check_foreign_content(source: Located) -> None:
    data = source.data
    if not isinstance(data, dict) or "images" in data:
        return
    if isinstance(data.get("services"), dict):
        raise ConfigError("this looks like a compose file (it has 'services'), not a buildorch "
                          "pipeline: convert it with "
                          f"`buildorch import compose {source.file} > buildorch.yaml`",
                          file=source.file, line=source.line_of(("services",)))
    if isinstance(data.get("target"), dict):
        raise ConfigError("this looks like a bake file (it has 'target'), not a buildorch "
                          "pipeline: convert it with "
                          f"`buildorch import bake {source.file} > buildorch.yaml`",
                          file=source.file, line=source.line_of(("target",)))
