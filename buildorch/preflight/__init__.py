"""Checks before any build starts: secrets and SSH, what the backend can do, S3 reachability."""
