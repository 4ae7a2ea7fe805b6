"""`buildorch schema`: the JSON Schema of pipeline and cache-profile files."""

from __future__ import annotations

import argparse
import json


def command(args: argparse.Namespace) -> int:
    from buildorch.pipeline.schema import json_schemas

    print(json.dumps(json_schemas(), indent=2))
    return 0
