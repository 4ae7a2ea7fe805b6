"""JSON Schema of the pipeline and cache-profile files."""

from __future__ import annotations

from buildorch.cache.profiles import CacheProfile
from buildorch.jsontypes import JsonObject
from buildorch.pipeline.model import Pipeline


def json_schemas() -> JsonObject:
    return {
        "pipeline": Pipeline.model_json_schema(),
        "cache_profile": CacheProfile.model_json_schema(),
    }
