"""OCI: image references and a small registry (distribution v2) client."""
