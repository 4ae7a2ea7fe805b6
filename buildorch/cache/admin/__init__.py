"""Cache administration (`buildorch cache ls|stats|prune`) for registry and S3 caches."""
