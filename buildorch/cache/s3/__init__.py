"""S3 cache: client and errors, the sync transport (local BuildKit cache folder <-> bucket)."""
