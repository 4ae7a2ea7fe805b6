"""Which cache each build imports and exports, as BuildKit cache attributes (pure).

`scope: branch` imports the image's own branch entry, then the default branch's, and
exports only its own branch. Whether to export follows the profile's `export`: `auto`
exports on CI or on the branches in `export_branches`, never from a pull request or a
laptop unless asked; `--cache-readonly` never exports. Export errors are ignored by
BuildKit (`ignore-error=true`) so that a cache outage never fails a build, unless
`--cache-strict`.

S3 goes natively (`type=s3`) where the builder has it, else through the sync transport:
BuildKit imports from and exports to local folders that buildorch downloads from and
uploads to S3 around the build.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from buildorch.backends.request import AttrSpec
from buildorch.cache.keys import local_dir, native_s3_name, registry_ref, scope_key
from buildorch.cache.profiles import CacheProfile
from buildorch.workdir import SYNC_IN, SYNC_OUT

# CI systems say "this is a pull request" in different ways.
_PULL_REQUEST_VARS = {
    "GITHUB_EVENT_NAME": ("pull_request", "pull_request_target"),
    "BUILDKITE_PULL_REQUEST": None,  # "false" or a number
    "CI_MERGE_REQUEST_IID": None,
    "CHANGE_ID": None,  # Jenkins
}


@dataclass(frozen=True)
class CacheContext:
    branch: str | None
    ci: bool = False
    pull_request: bool = False
    readonly: bool = False
    strict: bool = False
    native_s3: bool = False  # the builder has BuildKit's own `type=s3` cache
    credentials: Mapping[str, str] = field(default_factory=dict)  # forwarded S3 credentials
    actions_env: Mapping[str, str] = field(default_factory=dict)  # ACTIONS_* (gha cache)


@dataclass(frozen=True)
class SyncStep:
    """An S3 entry moved between the bucket and a local folder around a build."""

    scope: str
    folder: str


@dataclass(frozen=True)
class ImageCache:
    imports: tuple[AttrSpec, ...] = ()
    exports: tuple[AttrSpec, ...] = ()
    sync_downloads: tuple[SyncStep, ...] = ()
    sync_upload: SyncStep | None = None


def context_from_env(env: Mapping[str, str], branch: str | None, *, readonly: bool = False,
                     strict: bool = False, native_s3: bool = False,
                     credentials: Mapping[str, str] | None = None) -> CacheContext:
    ci = env.get("CI", "").lower() in ("1", "true", "yes")
    return CacheContext(branch=branch, ci=ci, pull_request=is_pull_request(env),
                        readonly=readonly, strict=strict, native_s3=native_s3,
                        credentials=dict(credentials or {}),
                        actions_env={k: v for k, v in env.items() if k in _ACTIONS_VARS})


_ACTIONS_VARS = frozenset({"ACTIONS_CACHE_SERVICE_V2", "ACTIONS_CACHE_URL", "ACTIONS_RESULTS_URL",
                           "ACTIONS_RUNTIME_TOKEN"})


def gha_missing(profile: CacheProfile, actions_env: Mapping[str, str]) -> tuple[str, ...]:
    """The variables a `gha` cache lacks here: buildctl (and so nerdctl) exits before the
    build without a url (the profile's, else ACTIONS_CACHE_URL, or ACTIONS_RESULTS_URL
    for cache service v2) and ACTIONS_RUNTIME_TOKEN (moby/buildkit
    cmd/buildctl/build/util.go `loadGithubEnv`); buildx reads the same variables."""
    v2 = actions_env.get("ACTIONS_CACHE_SERVICE_V2", "").lower() in ("1", "t", "true")
    url = "ACTIONS_RESULTS_URL" if v2 else "ACTIONS_CACHE_URL"
    needed = ((url,) if profile.url is None else ()) + ("ACTIONS_RUNTIME_TOKEN",)
    return tuple(name for name in needed if name not in actions_env)


def is_pull_request(env: Mapping[str, str]) -> bool:
    for name, values in _PULL_REQUEST_VARS.items():
        value = env.get(name, "")
        if values is None and value not in ("", "false"):
            return True
        if values is not None and value in values:
            return True
    return False


def should_export(profile: CacheProfile, ctx: CacheContext) -> bool:
    if ctx.readonly or profile.export == "never":
        return False
    if profile.export == "always":
        return True
    if ctx.pull_request:
        return False
    return ctx.ci or (ctx.branch is not None and ctx.branch in profile.export_branches)


def scopes(profile: CacheProfile, ctx: CacheContext) -> tuple[str, tuple[str, ...]]:
    """(the scope to export to, the scopes to import from, in order)."""
    if profile.scope == "global":
        return "global", ("global",)
    own = scope_key(ctx.branch or profile.default_branch)
    default = scope_key(profile.default_branch)
    return own, (own,) if own == default else (own, default)


Attr = tuple[str, str | None]


def _spec(kind: str, *pairs: Attr) -> AttrSpec:
    """A cache spec; attributes whose value is None are left out."""
    return AttrSpec(kind, tuple((k, v) for k, v in pairs if v is not None))


def _export_flags(profile: CacheProfile, ctx: CacheContext) -> tuple[Attr, ...]:
    return (("mode", profile.mode), ("ignore-error", None if ctx.strict else "true"))


def plan_cache(profile: CacheProfile, pipeline: str, image: str, tags: tuple[str, ...],
               folder: str, ctx: CacheContext) -> ImageCache:
    """The cache attributes of one image's build. `folder`: the pipeline file's folder."""
    own, imports = scopes(profile, ctx)
    export = should_export(profile, ctx)
    if profile.type == "registry":
        return _registry(profile, image, own, imports, export, ctx)
    if profile.type == "local":
        return _local(profile, pipeline, image, own, imports, export, folder, ctx)
    if profile.type == "inline":
        return ImageCache(imports=tuple(_spec("registry", ("ref", t)) for t in tags[:1]),
                          exports=(_spec("inline"),) if export else ())
    if profile.type == "gha":
        if gha_missing(profile, ctx.actions_env):
            return ImageCache()  # as an unreachable cache: the build goes on without it
        return _gha(profile, pipeline, image, own, imports, export, ctx)
    if profile.transport == "native" or (ctx.native_s3 and profile.transport == "auto"):
        return _native_s3(profile, pipeline, image, own, imports, export, ctx)
    return _sync_s3(profile, pipeline, image, own, imports, export, ctx)


def _registry(profile: CacheProfile, image: str, own: str, imports: tuple[str, ...],
              export: bool, ctx: CacheContext) -> ImageCache:
    ref = profile.ref or ""
    exports: tuple[AttrSpec, ...] = ()
    if export:
        media = (("oci-mediatypes", str(profile.oci_mediatypes is not False).lower()),
                 ("image-manifest", str(profile.image_manifest is not False).lower()))
        exports = (_spec("registry", ("ref", registry_ref(ref, image, own)),
                         *media, *_export_flags(profile, ctx)),)
    return ImageCache(
        imports=tuple(_spec("registry", ("ref", registry_ref(ref, image, s))) for s in imports),
        exports=exports)


def _local(profile: CacheProfile, pipeline: str, image: str, own: str, imports: tuple[str, ...],
           export: bool, folder: str, ctx: CacheContext) -> ImageCache:
    base = profile.dir or ""
    base = base if base.startswith("/") else f"{folder.rstrip('/')}/{base}"
    exports: tuple[AttrSpec, ...] = ()
    if export:
        exports = (_spec("local", ("dest", local_dir(base, pipeline, image, own)),
                         *_export_flags(profile, ctx)),)
    return ImageCache(
        imports=tuple(_spec("local", ("src", local_dir(base, pipeline, image, s)))
                      for s in imports),
        exports=exports)


def _gha(profile: CacheProfile, pipeline: str, image: str, own: str, imports: tuple[str, ...],
         export: bool, ctx: CacheContext) -> ImageCache:
    def spec(scope: str, *extra: Attr) -> AttrSpec:
        return _spec("gha", ("scope", native_s3_name(pipeline, image, scope)),
                     ("url", profile.url), *extra)

    return ImageCache(imports=tuple(spec(s) for s in imports),
                      exports=(spec(own, *_export_flags(profile, ctx)),) if export else ())


def _native_s3(profile: CacheProfile, pipeline: str, image: str, own: str,
               imports: tuple[str, ...], export: bool, ctx: CacheContext) -> ImageCache:
    def spec(scope: str, *extra: Attr) -> AttrSpec:
        return _spec(
            "s3", ("region", profile.region or "us-east-1"), ("bucket", profile.bucket),
            ("prefix", profile.prefix or None), ("name", native_s3_name(pipeline, image, scope)),
            ("endpoint_url", profile.endpoint_url),
            ("use_path_style", "true" if profile.use_path_style else None),
            *(ctx.credentials.items() if profile.credentials == "forward" else ()), *extra)

    return ImageCache(imports=tuple(spec(s) for s in imports),
                      exports=(spec(own, *_export_flags(profile, ctx)),) if export else ())


def sync_folder(profile: CacheProfile, pipeline: str, image: str, scope: str) -> str:
    prefix = profile.prefix.strip("/") or "_"
    return f"{SYNC_IN}/{profile.bucket}/{prefix}/{pipeline}/{image}/{scope}"


def _sync_s3(profile: CacheProfile, pipeline: str, image: str, own: str,
             imports: tuple[str, ...], export: bool, ctx: CacheContext) -> ImageCache:
    downloads = tuple(SyncStep(s, sync_folder(profile, pipeline, image, s)) for s in imports)
    upload = SyncStep(own, f"{SYNC_OUT}/{image}") if export else None
    exports: tuple[AttrSpec, ...] = ()
    if upload is not None:
        # as for every cache: a failed export is a warning (the upload then finds no index)
        exports = (_spec("local", ("dest", upload.folder), *_export_flags(profile, ctx)),)
    return ImageCache(
        imports=tuple(_spec("local", ("src", d.folder)) for d in downloads),
        exports=exports, sync_downloads=downloads, sync_upload=upload)
