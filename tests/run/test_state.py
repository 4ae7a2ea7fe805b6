"""What a run scrubs: secret values, and credentials forwarded in cache specs, which the
plan shows redacted but the child must get."""

from __future__ import annotations

from buildorch.cache.plan import CacheContext
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.planning.graph import build_graph
from buildorch.planning.plan import make_plan
from buildorch.planning.requests import PlanOptions
from buildorch.run.state import fill, scrub_values
from tests.conftest import MakeProject

PIPELINE = """\
version: 1
name: shop
images:
  api:
    context: api
    cache: s3fwd
    secrets: [{id: tok, env: BO_TOKEN}]
"""
PROFILE = "type: s3\nbucket: b\ntransport: native\ncredentials: forward\n"


def test_forwarded_credentials_reach_the_child_and_are_scrubbed(make_project: MakeProject) -> None:
    path = make_project(PIPELINE, files={"cache-config/s3fwd.yaml": PROFILE}, contexts=("api",))
    pipeline = load_pipeline(path, LoadOptions(env={}))
    creds = {"access_key_id": "AKIAFORWARDED", "secret_access_key": "forwarded/secret+key"}
    cache = CacheContext("main", ci=True, native_s3=True, credentials=creds)
    plan = make_plan(pipeline, build_graph(pipeline), [],
                     PlanOptions(backend="buildctl", cache=cache))
    [image] = plan.images
    exported = image.argv[image.argv.index("--export-cache") + 1]
    shown = image.shown_argv[image.shown_argv.index("--export-cache") + 1]
    assert "access_key_id=AKIAFORWARDED,secret_access_key=forwarded/secret+key" in exported
    assert "access_key_id=***,secret_access_key=***" in shown
    assert "AKIAFORWARDED" not in " ".join(image.shown_argv)
    secrets, credentials = scrub_values(pipeline, plan, {"BO_TOKEN": "token-value-1"})
    assert secrets == ("token-value-1",)
    assert credentials == ("forwarded/secret+key", "AKIAFORWARDED")  # longest first


def test_short_credential_values_are_not_scrubbed(make_project: MakeProject) -> None:
    path = make_project(PIPELINE, files={"cache-config/s3fwd.yaml": PROFILE}, contexts=("api",))
    pipeline = load_pipeline(path, LoadOptions(env={}))
    creds = {"access_key_id": "abc", "secret_access_key": "testing"}
    cache = CacheContext("main", ci=True, native_s3=True, credentials=creds)
    plan = make_plan(pipeline, build_graph(pipeline), [],
                     PlanOptions(backend="buildctl", cache=cache))
    [image] = plan.images
    assert "access_key_id=***,secret_access_key=***" in " ".join(image.shown_argv)
    assert scrub_values(pipeline, plan, {})[1] == ("testing",)  # "abc" would mangle output


def test_fill_puts_in_this_runs_digests_and_id() -> None:
    argv = ["--build-context", "base=docker-image://r/base@{digest:base}", "--tag",
            "buildorch.local/shop/base:{run_id}", "plain"]
    assert fill(argv, {"base": "sha256:ab"}, "r1") == [
        "--build-context", "base=docker-image://r/base@sha256:ab", "--tag",
        "buildorch.local/shop/base:r1", "plain"]
