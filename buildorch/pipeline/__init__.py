"""The pipeline file: model, YAML with positions, variables, `--set`, loading and validation."""
