"""`--progress json`: every event as one JSON object per line on stdout, for tools.

Each line has `event` (the kind), `time` (unix seconds) and the event's own fields, a
failure as an object. Log lines come only with `--verbose` (they are in the run folder's
log files anyway). `buildorch schema --events` prints the lines' JSON Schema.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from buildorch.jsontypes import JsonObject
from buildorch.run.events import Finish, LogLine, Start, Update
from buildorch.run.reporting import write_out

Event = Start | Update | Finish


def event_json(event: Event, at: float) -> JsonObject:
    """`{"event": kind, "time": at, ...the event's fields}`."""
    fields: JsonObject = dataclasses.asdict(event)
    fields.pop("kind", None)
    return {"event": event.kind, "time": at, **fields}


def event_line(event: Event, at: float) -> str:
    # ASCII only: no raw U+2028 or U+0085 that a reader splitting lines would cut at
    return json.dumps(event_json(event, at), ensure_ascii=True, separators=(",", ":"))


class JsonReporter:
    def __init__(self, stream: TextIO | None = None, verbose: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        self._stream = stream or sys.stdout
        self._verbose = verbose
        self._clock = clock
        self._lock = threading.Lock()  # builds report from several threads

    def _emit(self, event: Event) -> None:
        line = event_line(event, self._clock())
        with self._lock:
            write_out(self._stream, line + "\n")

    def started(self, event: Start) -> None:
        self._emit(event)

    def update(self, event: Update) -> None:
        if self._verbose or not isinstance(event, LogLine):
            self._emit(event)

    def finished(self, event: Finish) -> None:
        self._emit(event)
