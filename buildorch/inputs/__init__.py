"""Which files a build can see (`.dockerignore`), and their content digests (no processes)."""
