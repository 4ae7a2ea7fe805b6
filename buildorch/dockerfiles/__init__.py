"""Dockerfile analysis: stages, global ARGs and the references between stages and images."""
