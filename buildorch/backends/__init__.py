"""Backends: pure argv translation of a BuildRequest, one module per tool."""
