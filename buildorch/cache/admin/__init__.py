"""Cache administration (`buildorch cache ls|stats|prune`) for registry and S3 caches.

`entries` (one model of an entry, statistics, prune result and rules), `render` (the
text), `registry` with `registry_ledger` (export times), `s3` with `s3_bucket`.
"""
