from __future__ import annotations

import time
from pathlib import Path

import pytest

from buildorch import proc


def test_run_captures_output_and_code() -> None:
    result = proc.run(["sh", "-c", "echo out; echo err >&2; exit 3"], check=False)
    assert result.returncode == 3
    assert "out" in result.output and "err" in result.output


def test_failure_shows_redacted_command_code_and_tail() -> None:
    with pytest.raises(proc.CommandError) as err:
        proc.run(["sh", "-c", "for i in $(seq 1 50); do echo line$i; done; echo s3cr3t; exit 4",
                  "s3cr3t"], secrets=["s3cr3t"])
    message = str(err.value)
    assert "exit code 4" in message
    assert "line50" in message and "line1\n" not in message  # only the tail
    assert "s3cr3t" not in message and proc.REDACTED in message


def test_missing_binary_is_a_clear_error() -> None:
    with pytest.raises(proc.ToolNotFoundError, match="'no-such-tool-xyz' was not found"):
        proc.run(["no-such-tool-xyz"])


def test_timeout_stops_the_whole_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "child.pid"
    script = f"sleep 60 & echo $! > {marker}; wait"
    started = time.monotonic()
    with pytest.raises(Exception, match="timed out"):
        proc.run(["sh", "-c", script], timeout=1)
    assert time.monotonic() - started < 15
    grandchild = int(marker.read_text())
    assert not alive(grandchild)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is not running
    except FileNotFoundError:
        return False


def test_capture_keeps_stdout_bytes_apart_from_stderr() -> None:
    code, out, err = proc.capture(["sh", "-c", r"printf 'a\0\377b\0'; echo warn >&2; exit 5"])
    assert (code, out, err) == (5, b"a\0\xffb\0", "warn\n")


def test_a_command_is_shown_after_the_variables_it_adds() -> None:
    assert proc.render_argv(["docker", "buildx", "build", "a b"], {"X": "1", "Y": "a b"}) == (
        "X=1 Y='a b' docker buildx build 'a b'")
