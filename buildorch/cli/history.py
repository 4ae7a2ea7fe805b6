"""`buildorch history [-n N]`: the recent runs in this folder, newest first."""

from __future__ import annotations

import argparse
import os
import sys

from buildorch.errors import ConfigError


def command(args: argparse.Namespace) -> int:
    from buildorch.run.history import HistoryEntry, history_table
    from buildorch.run.recorded import read_record, run_records

    entries = []
    for path in run_records()[: args.n]:
        try:
            entries.append(HistoryEntry(path.parent.name, read_record(path,
                                                                   os.path.relpath(path))))
        except ConfigError as exc:  # one damaged record does not hide the others
            entries.append(HistoryEntry(path.parent.name, None, str(exc)))
            print(f"buildorch: warning: {exc}", file=sys.stderr)  # the row says only that
    if not entries:
        print("no runs yet in this folder (buildorch build writes .buildorch/runs/)")
        return 0
    print(history_table(entries))
    return 0
