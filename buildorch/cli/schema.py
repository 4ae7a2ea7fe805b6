"""`buildorch schema`: the JSON Schema of pipeline and cache-profile files, or with
`--events` of `build --progress json`'s event lines."""

from __future__ import annotations

import argparse
import json


def command(args: argparse.Namespace) -> int:
    if args.events:
        from buildorch.run.event_schema import events_schema

        print(json.dumps(events_schema(), indent=2))
        return 0
    from buildorch.pipeline.schema import json_schemas

    print(json.dumps(json_schemas(), indent=2))
    return 0
