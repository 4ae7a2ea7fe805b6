"""The run: scheduler, one build, publishing, records, reporting and cache transfers."""
