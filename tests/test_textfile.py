"""Reading a user's text file: bounded, whatever the file's size says or how it grows."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildorch.errors import ConfigError
from buildorch.textfile import read_text


@settings(deadline=None, max_examples=50)
@given(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\0"),
               max_size=300), st.integers(1, 400))
def test_a_file_is_read_whole_or_refused_when_too_big(text: str, limit: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f"
        path.write_bytes(text.encode())
        size = len(text.encode())
        if size <= limit:
            assert read_text(path, "f", "file", limit) == text.removeprefix("\ufeff")
        else:
            with pytest.raises(ConfigError, match="larger than"):
                read_text(path, "f", "file", limit)


def test_a_file_without_a_size_is_read_to_its_end(tmp_path: Path) -> None:
    # A FIFO (or /proc file) says size 0: the bound still comes from what is read.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    body = "FROM a\n" * 1000

    def write() -> None:
        with fifo.open("w") as out:
            out.write(body)
    writer = threading.Thread(target=write)
    writer.start()
    assert read_text(fifo, "fifo", "Dockerfile", 1 << 20) == body
    writer.join()
    writer = threading.Thread(target=write)
    writer.start()
    with pytest.raises(ConfigError, match="larger than"):
        read_text(fifo, "fifo", "Dockerfile", 100)
    writer.join()
