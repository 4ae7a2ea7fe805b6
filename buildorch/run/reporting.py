"""Progress reporting behind one small interface: started, update, finished.

`PlainReporter` writes prefixed lines (CI logs, pipes); a rich live view for terminals
implements the same three methods.
"""

from __future__ import annotations

import sys
import threading
from typing import Protocol, TextIO


class Reporter(Protocol):
    def started(self, name: str, attempt: int) -> None: ...

    def update(self, name: str, line: str) -> None: ...

    def finished(self, name: str, state: str, detail: str) -> None: ...

    def message(self, text: str) -> None: ...


class PlainReporter:
    """`[image] line` for build output; `==>` lines for starts and ends."""

    def __init__(self, stream: TextIO | None = None, show_output: bool = True) -> None:
        self._stream = stream or sys.stdout
        self._show_output = show_output
        self._lock = threading.Lock()  # builds report from several threads

    def _write(self, text: str) -> None:
        with self._lock:
            self._stream.write(text + "\n")
            self._stream.flush()

    def started(self, name: str, attempt: int) -> None:
        again = f" (attempt {attempt})" if attempt > 1 else ""
        self._write(f"==> {name}: started{again}")

    def update(self, name: str, line: str) -> None:
        if self._show_output:
            self._write(f"[{name}] {line.rstrip()}")

    def finished(self, name: str, state: str, detail: str) -> None:
        self._write(f"==> {name}: {state}{f' {detail}' if detail else ''}")

    def message(self, text: str) -> None:
        self._write(text)
