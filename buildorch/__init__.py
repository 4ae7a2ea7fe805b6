"""buildorch: build a monorepo's container images as one graph through BuildKit."""

from __future__ import annotations

__version__ = "0.1.0"
