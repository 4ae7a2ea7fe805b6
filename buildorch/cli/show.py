"""`buildorch show RUN_ID|RECORD.json`: one run's end-of-run summary again."""

from __future__ import annotations

import argparse
import os


def command(args: argparse.Namespace) -> int:
    from buildorch.run.recorded import find_record, read_record
    from buildorch.run.summary import summary

    path = find_record(args.run)
    record = read_record(path)
    print(summary(record, os.path.relpath(path)).lstrip("\n"))
    return 0
