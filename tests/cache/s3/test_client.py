"""The S3 client and its errors, against the local stack's real S3 server (moto's server)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from buildorch.cache.s3.client import S3CacheError, S3Location, check_bucket
from buildorch.cache.s3.download import download
from buildorch.cache.s3.upload import upload
from tests.cache.s3.layouts import layers, make_layout
from tests.conftest import REPO

MODULES = ("buildorch.cache.s3.client", "buildorch.cache.s3.references",
           "buildorch.cache.s3.layout", "buildorch.cache.s3.covered",
           "buildorch.cache.s3.upload", "buildorch.cache.s3.download",
           "buildorch.cache.admin.s3", "buildorch.cache.admin.s3_bucket", "buildorch.cli.cache")


def test_importing_the_module_does_not_import_boto3() -> None:
    code = f"import sys, {', '.join(MODULES)}; print('boto3' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=REPO)
    assert result.stdout.strip() == "False"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.engine
def test_unreachable_endpoint_fails_fast_and_clearly(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"SeCrEt{uuid.uuid4().hex}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAABCDEFGHIJKLMNOP")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    endpoint = f"http://127.0.0.1:{free_port()}"
    where = S3Location("nobody-home", "shop/", "us-east-1", endpoint, True)
    layout = make_layout(tmp_path / "export", layers(8, 1000))

    for action in (lambda: download(where, "shop", "api", "main", tmp_path / "import"),
                   lambda: upload(where, layout.root, "shop", "api", "main"),
                   lambda: check_bucket(where)):
        started = time.monotonic()
        with pytest.raises(S3CacheError) as caught:
            action()
        message = str(caught.value)
        assert time.monotonic() - started < 15
        assert endpoint in message and "nobody-home" in message
        assert "Could not connect" in message
        assert "\n" not in message
        assert secret not in message and "AKIAABCDEFGHIJKLMNOP" not in message


@pytest.mark.engine
def test_check_bucket(location: S3Location) -> None:
    check_bucket(location)
    missing = S3Location(f"{location.bucket}-missing", "", "us-east-1", location.endpoint_url,
                         True)
    with pytest.raises(S3CacheError, match="the bucket does not exist"):
        check_bucket(missing)
