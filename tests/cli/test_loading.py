"""`credentials: forward` with no credentials to forward names the profile's line."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import MakeProject


def test_forward_without_credentials_names_the_profile_line(make_project: MakeProject) -> None:
    profile = "type: s3\nbucket: b\ntransport: native\ncredentials: forward\n"
    path = make_project("version: 1\nname: s\nimages:\n  a: {context: a, cache: fwd}\n",
                        files={"cache-config/fwd.yaml": profile}, contexts=("a",))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_EC2_METADATA_DISABLED": "true"}
    result = subprocess.run([sys.executable, "-m", "buildorch", "plan", "-f", str(path),
                             "--backend", "buildctl"], cwd=path.parent, env=env,
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        "buildorch: error: cache-config/fwd.yaml:4: credentials: 'forward', but boto3 "
        "finds no AWS credentials")
