from __future__ import annotations

import json
import os
import subprocess
import sys

from buildorch.backends.flags import spec_text
from buildorch.backends.request import AttrSpec
from buildorch.cache.plan import (
    CacheContext,
    ImageCache,
    context_from_env,
    gha_missing,
    is_pull_request,
    plan_cache,
    should_export,
)
from buildorch.cache.profiles import CacheProfile
from tests.conftest import MakeProject


def texts(specs: tuple[AttrSpec, ...]) -> tuple[str, ...]:
    """Specs as the backends render them into argv."""
    return tuple(spec_text(s) for s in specs)


REGISTRY = CacheProfile(type="registry", ref="r:5000/shop/cache", default_branch="main")


def ctx(**kwargs: object) -> CacheContext:
    return CacheContext(**{"branch": "feature/x", "ci": True, **kwargs})  # type: ignore[arg-type]


def test_branch_scope_imports_own_then_default_and_exports_own() -> None:
    cache = plan_cache(REGISTRY, "shop", "api", (), ".", ctx())
    assert texts(cache.imports) == ("type=registry,ref=r:5000/shop/cache:api-feature-x",
                             "type=registry,ref=r:5000/shop/cache:api-main")
    assert texts(cache.exports) == ("type=registry,ref=r:5000/shop/cache:api-feature-x,"
                             "oci-mediatypes=true,image-manifest=true,mode=max,ignore-error=true",)


def test_default_branch_imports_once() -> None:
    cache = plan_cache(REGISTRY, "shop", "api", (), ".", ctx(branch="main"))
    assert texts(cache.imports) == ("type=registry,ref=r:5000/shop/cache:api-main",)


def test_strict_keeps_export_errors() -> None:
    cache = plan_cache(REGISTRY, "shop", "api", (), ".", ctx(strict=True))
    assert "ignore-error" not in spec_text(cache.exports[0])


def test_export_policy() -> None:
    assert should_export(REGISTRY, ctx())  # CI
    assert not should_export(REGISTRY, ctx(ci=False))  # a laptop
    assert not should_export(REGISTRY, ctx(pull_request=True))
    assert not should_export(REGISTRY, ctx(readonly=True))
    listed = REGISTRY.model_copy(update={"export_branches": ["feature/x"]})
    assert should_export(listed, ctx(ci=False))
    always = REGISTRY.model_copy(update={"export": "always"})
    assert should_export(always, ctx(ci=False, pull_request=True))
    assert not should_export(always, ctx(readonly=True))
    never = REGISTRY.model_copy(update={"export": "never"})
    assert not should_export(never, ctx())


def test_pull_request_detection() -> None:
    assert is_pull_request({"GITHUB_EVENT_NAME": "pull_request"})
    assert not is_pull_request({"GITHUB_EVENT_NAME": "push"})
    assert is_pull_request({"BUILDKITE_PULL_REQUEST": "42"})
    assert not is_pull_request({"BUILDKITE_PULL_REQUEST": "false"})
    assert context_from_env({"CI": "true"}, "main").ci
    assert not context_from_env({}, "main").ci


def test_global_scope() -> None:
    profile = REGISTRY.model_copy(update={"scope": "global"})
    cache = plan_cache(profile, "shop", "api", (), ".", ctx())
    assert texts(cache.imports) == ("type=registry,ref=r:5000/shop/cache:api-global",)


def test_local_profile_folders_relative_to_the_pipeline() -> None:
    local = CacheProfile(type="local", dir=".buildorch/cache", export="always")
    cache = plan_cache(local, "shop", "api", (), "pipelines", ctx())
    assert texts(cache.imports) == (
        "type=local,src=pipelines/.buildorch/cache/shop/api/feature-x",
        "type=local,src=pipelines/.buildorch/cache/shop/api/main")
    assert texts(cache.exports) == (
        "type=local,dest=pipelines/.buildorch/cache/shop/api/feature-x,mode=max,"
        "ignore-error=true",)


def test_inline() -> None:
    inline = CacheProfile(type="inline")
    cache = plan_cache(inline, "shop", "api", ("r/api:1",), ".", ctx())
    assert texts(cache.imports) == ("type=registry,ref=r/api:1",)
    assert texts(cache.exports) == ("type=inline",)


S3 = CacheProfile(type="s3", bucket="build-cache", region="eu-west-1", prefix="shop/",
                  endpoint_url="http://127.0.0.1:9000", use_path_style=True)


def test_native_s3_attributes() -> None:
    cache = plan_cache(S3, "shop", "api", (), ".", ctx(native_s3=True))
    assert spec_text(cache.imports[0]) == (
        "type=s3,region=eu-west-1,bucket=build-cache,prefix=shop/,name=shop-api-feature-x,"
        "endpoint_url=http://127.0.0.1:9000,use_path_style=true")
    assert spec_text(cache.exports[0]).endswith(
        "name=shop-api-feature-x,endpoint_url=http://127.0.0.1:9000,"
        "use_path_style=true,mode=max,ignore-error=true")
    assert not cache.sync_downloads and cache.sync_upload is None


def test_native_s3_forwards_credentials_only_when_asked() -> None:
    creds = {"access_key_id": "AKIA", "secret_access_key": "s3cr3t"}
    daemon = plan_cache(S3, "shop", "api", (), ".", ctx(native_s3=True, credentials=creds))
    assert "access_key_id" not in spec_text(daemon.imports[0])
    forward = S3.model_copy(update={"credentials": "forward"})
    cache = plan_cache(forward, "shop", "api", (), ".", ctx(native_s3=True, credentials=creds))
    assert "access_key_id=AKIA,secret_access_key=s3cr3t" in spec_text(cache.exports[0])


def test_s3_without_native_support_goes_through_sync_folders() -> None:
    cache = plan_cache(S3, "shop", "api", (), ".", ctx(native_s3=False))
    assert [d.scope for d in cache.sync_downloads] == ["feature-x", "main"]
    assert texts(cache.imports) == tuple(f"type=local,src={d.folder}"
                                         for d in cache.sync_downloads)
    folder = ".buildorch/s3-cache/build-cache/shop/shop/api/feature-x"
    assert cache.sync_downloads[0].folder == folder
    assert cache.sync_upload is not None and cache.sync_upload.scope == "feature-x"
    assert texts(cache.exports) == (f"type=local,dest={cache.sync_upload.folder},mode=max,"
                                    "ignore-error=true",)


def test_gha_is_argv_only() -> None:
    gha = CacheProfile(type="gha")
    actions = {"ACTIONS_CACHE_URL": "https://cache/", "ACTIONS_RUNTIME_TOKEN": "t0ken"}
    cache = plan_cache(gha, "shop", "api", (), ".", ctx(actions_env=actions))
    assert texts(cache.imports) == ("type=gha,scope=shop-api-feature-x",
                                    "type=gha,scope=shop-api-main")


def test_gha_without_github_actions_variables_is_left_out() -> None:
    # moby/buildkit cmd/buildctl/build/util.go loadGithubEnv: a url (attribute, else
    # ACTIONS_CACHE_URL, or ACTIONS_RESULTS_URL with cache service v2) and a token
    gha = CacheProfile(type="gha")
    assert plan_cache(gha, "shop", "api", (), ".", ctx()) == ImageCache()
    assert gha_missing(gha, {}) == ("ACTIONS_CACHE_URL", "ACTIONS_RUNTIME_TOKEN")
    assert gha_missing(gha, {"ACTIONS_CACHE_SERVICE_V2": "true",
                             "ACTIONS_CACHE_URL": "u"}) == ("ACTIONS_RESULTS_URL",
                                                            "ACTIONS_RUNTIME_TOKEN")
    with_url = CacheProfile(type="gha", url="https://cache/")
    assert gha_missing(with_url, {"ACTIONS_RUNTIME_TOKEN": "t"}) == ()
    env = {"ACTIONS_RUNTIME_TOKEN": "t", "PATH": "/bin"}
    assert context_from_env(env, "main").actions_env == {"ACTIONS_RUNTIME_TOKEN": "t"}


NATIVE_PIPELINE = """\
version: 1
name: shop
images:
  api: {context: api, cache: s3fwd}
"""
FORWARD_PROFILE = ("type: s3\nbucket: b\nregion: us-east-1\nendpoint_url: http://127.0.0.1:9\n"
                   "use_path_style: true\ncredentials: forward\n")


def test_native_s3_argv_for_buildctl_and_nerdctl_with_credentials_redacted_when_shown(
        make_project: MakeProject) -> None:
    path = make_project(NATIVE_PIPELINE, files={"cache-config/s3fwd.yaml": FORWARD_PROFILE},
                        contexts=("api",))
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIAFORWARDED", "CI": "true",
           "AWS_SECRET_ACCESS_KEY": "forwarded/secret+key", "AWS_SESSION_TOKEN": "tok-123"}
    env.pop("AWS_PROFILE", None)
    for backend, import_flag, export_flag in (("buildctl", "--import-cache", "--export-cache"),
                                              ("nerdctl", "--cache-from", "--cache-to")):
        shown = subprocess.run(
            [sys.executable, "-m", "buildorch", "plan", "-f", str(path), "--format", "json",
             "--backend", backend, "--var", "GIT_BRANCH=main"], cwd=path.parent, env=env,
            capture_output=True, text=True, check=True)
        dry = subprocess.run(
            [sys.executable, "-m", "buildorch", "build", "-f", str(path), "--dry-run",
             "--backend", backend, "--var", "GIT_BRANCH=main"], cwd=path.parent, env=env,
            capture_output=True, text=True, check=True)
        argv = json.loads(shown.stdout)["nodes"][0]["argv"]
        exported = argv[argv.index(export_flag) + 1]
        assert exported.startswith("type=s3,region=us-east-1,bucket=b,name=shop-api-main,")
        assert "access_key_id=***,secret_access_key=***,session_token=***" in exported
        assert argv[argv.index(import_flag) + 1].startswith("type=s3,")
        for secret in ("AKIAFORWARDED", "forwarded/secret+key", "tok-123"):
            assert secret not in shown.stdout + shown.stderr + dry.stdout + dry.stderr
        assert "credentials are forwarded" in shown.stderr  # the warning


def test_the_child_gets_the_forwarded_credentials() -> None:
    from buildorch.backends.buildctl import buildctl_argv
    from buildorch.backends.nerdctl import nerdctl_argv
    from buildorch.backends.request import BuildRequest

    forward = S3.model_copy(update={"credentials": "forward"})
    creds = {"access_key_id": "AKIA", "secret_access_key": "s/k", "session_token": "t"}
    cache = plan_cache(forward, "shop", "api", (), ".", ctx(native_s3=True, credentials=creds))
    request = BuildRequest(name="api", context=".", dockerfile="Dockerfile",
                           cache_from=cache.imports, cache_to=cache.exports)
    for argv, flag in ((buildctl_argv(request), "--export-cache"),
                       (nerdctl_argv(request), "--cache-to")):
        assert "access_key_id=AKIA,secret_access_key=s/k,session_token=t" in argv[
            argv.index(flag) + 1]
