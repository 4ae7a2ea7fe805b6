"""Dockerfile analysis: stages, global ARGs and the references between stages and images.

Static analysis that mirrors BuildKit's dockerfile frontend, to predict which stages and
which external images a `docker buildx build --target X` really touches. The modules, from
the entry points down: `parser` (`parse_dockerfile`, `load_dockerfile`), `directives`
(`# syntax=`, `# escape=`), `instructions` (the walk over FROM, ARG, COPY and RUN),
`stages` (`DockerfileInfo` and its stage resolution) and `shell_words` (BuildKit's
expansion of variables, quotes and escapes).
"""
