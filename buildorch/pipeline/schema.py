"""JSON Schema of the pipeline and cache-profile files."""

from __future__ import annotations

from typing import Any

from buildorch.cache.profiles import CacheProfile
from buildorch.pipeline.model import Pipeline


def json_schemas() -> dict[str, Any]:
    return {
        "pipeline": Pipeline.model_json_schema(),
        "cache_profile": CacheProfile.model_json_schema(),
    }
