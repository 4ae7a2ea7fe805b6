"""A compose file's build sections as a pipeline: each field as compose reads it
(compose-spec/compose-spec build.md, schema/compose-spec.json; docker/compose
pkg/compose/build.go, build_bake.go), and one warning naming file, line and field for
each that has no equivalent."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TypeVar

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from buildorch.pipeline.from_compose import from_compose
from buildorch.pipeline.imported import ConversionError, Imported
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.pipeline.yaml_source import parse_yaml


def compose(text: str, name: str = "p", dotenv: bool = False) -> Imported:
    return from_compose(parse_yaml(textwrap.dedent(text), "c.yaml"), name, dotenv=dotenv)


def convert(build: str) -> Imported:
    """One service, `web`, with `build` (indented under it) on line 3."""
    return from_compose(parse_yaml(f"services:\n  web:\n    build:\n{build}", "c.yaml"), "p")


def web(build: str) -> dict[str, object]:
    return convert(build).images["web"]


# --- fields that carry over ---------------------------------------------------------------


def test_a_build_path_is_the_context_and_the_image_is_named_as_compose_names_it() -> None:
    result = compose("services:\n  web:\n    build: ./web\n")
    assert result.images == {"web": {"context": "./web", "tags": ["p-web"]}}
    assert result.notes == []


@pytest.mark.parametrize(("declared", "folder", "tag"), [
    ("", "shop", "shop-web"),
    ("name: My_Shop.v2\n", "x", "my_shopv2-web"),  # compose-go NormalizeProjectName
    ("name: ${PROJECT}\n", "shop", "shop-web"),  # not known before it runs: the folder's
    ("", "__Shop", "shop-web"),
    ("", None, "p-web"),  # no folder (a pipe): the pipeline's name
])
def test_compose_s_own_image_name_is_project_dash_service(declared: str, folder: str | None,
                                                          tag: str) -> None:
    result = from_compose(parse_yaml(f"{declared}services:\n  web:\n    build: .\n", "c.yaml"),
                          "p", folder=folder)
    assert result.images["web"]["tags"] == [tag]


def test_no_tag_where_compose_s_name_would_not_be_a_reference() -> None:
    result = compose("services:\n  Web:\n    build: .\n")
    assert "tags" not in result.images["Web"]
    assert result.notes == ["c.yaml:2: services.Web: no image, and compose's name for it "
                            "(p-Web) is no image reference: no tag"]


def test_the_image_and_build_tags_are_the_tags() -> None:
    result = compose("""\
        services:
          web:
            image: localhost:5000/web:1
            build: {context: ., tags: ["localhost:5000/web:latest", localhost:5000/web:1]}
        """)
    assert result.images["web"]["tags"] == ["localhost:5000/web:1", "localhost:5000/web:latest"]


def test_fields_spelled_alike_carry_over() -> None:
    image = web("""\
      context: src
      dockerfile: Dockerfile.prod
      target: runtime
      network: host
      no_cache: true
      pull: true
      shm_size: 2gb
      platforms: [linux/amd64, linux/arm64]
      no_cache_filter: [deps]
      extra_hosts: ["db:10.0.0.2", "cache=10.0.0.3"]
      ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 65535}
      x-bake: {anything: 1}
""")
    assert image == {
        "context": "src", "dockerfile": "Dockerfile.prod", "target": "runtime",
        "network": "host", "no_cache": True, "pull": True, "shm_size": "2gb",
        "platforms": ["linux/amd64", "linux/arm64"], "no_cache_filter": ["deps"],
        "extra_hosts": ["db:10.0.0.2", "cache=10.0.0.3"],
        "ulimits": {"nofile": {"soft": 1024, "hard": 2048}, "nproc": 65535},
        "tags": ["p-web"]}


def test_strings_keep_what_was_written() -> None:
    image = web("      context: .\n      target: 1.10\n      platforms: linux/amd64\n")
    assert image["target"] == "1.10" and image["platforms"] == ["linux/amd64"]


def test_dockerfile_inline() -> None:
    image = web("      context: .\n      dockerfile_inline: |\n        FROM scratch\n"
                "        RUN echo $$HOME\n")
    assert image["dockerfile_inline"] == "FROM scratch\nRUN echo $$HOME\n"


@pytest.mark.parametrize(("value", "attest"), [
    ("true", "type=provenance"), ("false", "type=provenance,disabled=true"),
    ("mode=max", "type=provenance,mode=max"), ("'true'", "type=provenance"),
])
def test_provenance_and_sbom_are_attestations(value: str, attest: str) -> None:
    image = web(f"      context: .\n      provenance: {value}\n      sbom: true\n")
    assert image["attest"] == [attest, "type=sbom"]


ARG_NOTE = ("c.yaml:{line}: services.web.build.args.B: no value: compose takes it from the "
            "environment, or leaves the ARG unset; give it here or with --set")


@pytest.mark.parametrize(("args", "line"), [("[A=1, B]", 5), ("{A: 1, B: null}", 5),
                                            ("{A: 1, B: ~}", 5), ("\n        A: 1\n        B:", 7)])
def test_an_arg_without_a_value_is_left_out_with_a_warning(args: str, line: int) -> None:
    result = convert(f"      context: .\n      args: {args}\n")
    assert result.images["web"]["args"] == {"A": "1"}
    assert result.notes == [ARG_NOTE.format(line=line)]


def test_an_empty_or_quoted_arg_is_a_value() -> None:
    result = convert("      context: .\n      args: [A=, 'B=~']\n")
    assert result.images["web"]["args"] == {"A": "", "B": "~"}
    result = convert("      context: .\n      args: {A: '', B: '~', C: 0755, D: 3.10, E: yes}\n")
    assert result.images["web"]["args"] == {"A": "", "B": "~", "C": "0755", "D": "3.10",
                                            "E": "yes"}
    assert result.notes == []


def test_a_label_without_a_value_is_an_empty_label() -> None:
    result = convert("      context: .\n      labels: {a: ~, b: 1.0}\n")
    assert result.images["web"]["labels"] == {"a": "", "b": "1.0"}
    result = convert("      context: .\n      labels: [a, b=x]\n")
    assert result.images["web"]["labels"] == {"a": "", "b": "x"}


@pytest.mark.parametrize(("ssh", "expected"), [
    ("default", ["default"]),  # one entry, not one per character
    ("[default]", ["default"]),
    ("[default, 'gh=~/.ssh/gh']", ["default", {"id": "gh", "paths": ["~/.ssh/gh"]}]),
    ("['gh=/a,/b']", [{"id": "gh", "paths": ["/a", "/b"]}]),
    ("{default: null, gh: /k}", ["default", {"id": "gh", "paths": ["/k"]}]),
])
def test_ssh_in_each_form_compose_takes(ssh: str, expected: list[object]) -> None:
    assert web(f"      context: .\n      ssh: {ssh}\n")["ssh"] == expected


# --- secrets ---------------------------------------------------------------------------------

SECRETS = """\
services:
  web:
    build:
      context: .
      secrets:
        - token
        - source: key
          target: ssh_key
          mode: 0400
        - nothing
        - undefined
secrets:
  token: {environment: TOKEN}
  key: {file: ./key.pem}
  nothing: {external: true}
"""


def test_secrets_by_file_or_environment_with_the_target_as_id() -> None:
    result = compose(SECRETS)
    assert result.images["web"]["secrets"] == [{"id": "token", "env": "TOKEN"},
                                               {"id": "ssh_key", "src": "./key.pem"}]
    assert result.notes == [
        "c.yaml:7: services.web.build.secrets[1]: mode: no equivalent (a RUN "
        "--mount=type=secret sets its own uid, gid and mode)",
        "c.yaml:10: services.web.build.secrets[2]: the top-level secret 'nothing' defines "
        "neither file nor environment: left out; add {id: nothing, src: FILE} or {..., env: VAR}",
        "c.yaml:11: services.web.build.secrets[3]: the top-level secret 'undefined' is not "
        "defined: left out; add {id: undefined, src: FILE} or {..., env: VAR}"]


# --- additional contexts and depends_on -------------------------------------------------------

EDGES = """\
services:
  base:
    build: ./base
  api:
    build:
      context: ./api
      additional_contexts:
        base: service:base
        db: service:db
        files: ./files
        img: docker-image://localhost:5000/x:1
    depends_on:
      base: {condition: service_started}
      db: {condition: service_healthy, required: true}
      cache: {condition: service_started}
  worker:
    build: ./worker
    depends_on: [api, db]
  db:
    image: postgres:16
  cache:
    image: redis
"""


def test_service_contexts_and_depends_on_on_built_services_are_edges() -> None:
    result = compose(EDGES)
    api, worker = result.images["api"], result.images["worker"]
    assert api["contexts"] == {"base": {"image": "base"}, "db": "docker-image://postgres:16",
                               "files": "./files",
                               "img": "docker-image://localhost:5000/x:1"}
    assert api["depends_on"] == ["base"] and worker["depends_on"] == ["api"]
    assert set(result.images) == {"base", "api", "worker"}
    assert result.notes == [
        "c.yaml:9: services.api.build.additional_contexts.db: db is run, not built: written "
        "as docker-image://postgres:16",
        "c.yaml:12: services.api.depends_on: db, cache are run, not built: no build to wait "
        "for (left out)",
        "c.yaml:18: services.worker.depends_on: db is run, not built: no build to wait for "
        "(left out)"]


@pytest.mark.parametrize(("text", "message"), [
    ("    build: .\n    depends_on: [nope]\n",
     r"^services\.web\.depends_on: no service 'nope'$"),
    ("    build: .\n    depends_on: [1]\n", r"^services\.web\.depends_on: expected a list"),
    ("    build: .\n    depends_on: {x: 1}\n", r"^services\.web\.depends_on: expected a list"),
    ("    build: {additional_contexts: [a=service:nope]}\n",
     r"^services\.web\.build\.additional_contexts\.a: no service 'nope' that is built or has "
     r"an image$"),
])
def test_references_to_services_compose_would_not_find(text: str, message: str) -> None:
    with pytest.raises(ConversionError, match=message):
        compose(f"services:\n  web:\n{text}")


def test_with_include_services_may_be_elsewhere() -> None:
    result = compose("""\
        include: [other/compose.yaml]
        services:
          web:
            build:
              additional_contexts: {a: "service:lib"}
            depends_on: [lib]
        """)
    assert result.images["web"]["contexts"] == {}
    assert "depends_on" not in result.images["web"]
    assert result.notes == [
        "c.yaml:5: services.web.build.additional_contexts.a: no service 'lib' in this file "
        "(include: is not read): left out",
        "c.yaml:6: services.web.depends_on: lib not in this file (include: is not read): left "
        "out",
        "c.yaml:1: include: the included files are not read: import each of them as well"]


def test_services_whose_names_clean_alike_are_both_kept() -> None:
    text = ("services:\n  'a b':\n    build: ./x\n  a-b:\n    build: ./y\n"
            "  c:\n    build:\n      context: .\n      additional_contexts: ['p=service:a b']\n")
    result = from_compose(parse_yaml(text, "c.yaml"), "p")
    assert {k: v["context"] for k, v in result.images.items()} == {
        "a-b-2": "./x", "a-b": "./y", "c": "."}
    assert result.images["c"]["contexts"] == {"p": {"image": "a-b-2"}}
    assert result.notes == ["c.yaml:2: services.a b: the service 'a b' is the image a-b-2 (a-b "
                            "is the service 'a-b')",
                            "c.yaml:2: services.a b: no image, and compose's name for it (p-a b) "
                            "is no image reference: no tag"]


# --- platform, profiles, extends ----------------------------------------------------------------


def test_the_service_platform_is_the_build_s_when_it_names_none() -> None:
    result = compose("services:\n  web:\n    platform: linux/arm64\n    build: .\n")
    assert result.images["web"]["platforms"] == ["linux/arm64"]
    result = compose("services:\n  web:\n    platform: linux/arm64\n    build:\n"
                     "      platforms: [linux/amd64, linux/arm64]\n")
    assert result.images["web"]["platforms"] == ["linux/amd64", "linux/arm64"]
    with pytest.raises(ConversionError, match=r"^services\.web\.platform: 'linux/s390x' is not "
                                              r"among build\.platforms"):
        compose("services:\n  web:\n    platform: linux/s390x\n    build:\n"
                "      platforms: [linux/amd64]\n")


def test_profiles_become_groups_as_compose_enables_them() -> None:
    result = compose("""\
        services:
          web: {build: .}
          debug: {build: ., profiles: [dev]}
          test: {build: ., profiles: [dev, ci]}
          clash: {build: ., profiles: [web]}
          db: {image: postgres, profiles: [dev]}
        """)
    assert result.groups == {"default": ["web"], "dev": ["default", "debug", "test"],
                             "ci": ["default", "test"]}
    assert result.notes == ["c.yaml:5: services.clash.profiles: profile 'web' cannot be a group "
                            "here (not a name, or an image's or group's): no group for it"]
    assert compose("services:\n  web: {build: .}\n").groups == {}


def test_extends_in_the_same_file_is_merged_and_another_file_is_said() -> None:
    result = compose("""\
        services:
          base:
            image: postgres
            build: {context: ./b, args: {A: 1}}
          api:
            extends: base
            image: api
            build: {args: [B=2]}
          other:
            extends: {service: x, file: common.yml}
            build: ./o
        """)
    assert result.images["api"] == {"context": "./b", "args": {"A": "1", "B": "2"},
                                    "tags": ["api"]}
    assert result.notes == ["c.yaml:10: services.other.extends.file: another file is not read: "
                            "what its service would bring is missing"]


def test_anchors_merge_keys_and_extensions() -> None:
    result = compose("""\
        x-build: &build
          context: ./common
          args: {V: 3.10}
        x-service: &service
          ports: ["80"]
        services:
          a:
            <<: *service
            build:
              <<: *build
              target: a
          b:
            <<: *service
            build: *build
        """)
    assert result.images["a"] == {"context": "./common", "args": {"V": "3.10"}, "target": "a",
                                  "tags": ["p-a"]}
    assert result.images["b"]["args"] == {"V": "3.10"}
    assert result.notes == []


# --- what has no equivalent ------------------------------------------------------------------


def test_one_warning_line_for_each_field_without_an_equivalent() -> None:
    result = compose("""\
        services:
          api:
            build:
              context: .
              cache_from: [localhost:5000/cache/api:buildcache]
              cache_to: ["type=local,dest=/tmp/cache"]
              privileged: true
              entitlements: [network.host]
              isolation: hyperv
              frobnicate: 1
              x-custom: 1
            ports: ["8080:80"]
            volumes: [./src:/src]
            environment: {DEBUG: "1"}
            command: serve
            networks: [front]
            healthcheck: {test: [CMD, "true"]}
            restart: always
            deploy: {replicas: 2}
        """)
    assert result.images["api"] == {"context": ".", "tags": ["p-api"]}
    assert result.notes == [
        "c.yaml:5: services.api.build.cache_from: no per-image cache refs here: write "
        "cache-config/registry.yaml with `type: registry` and `ref: localhost:5000/cache/api` "
        "(each image then uses localhost:5000/cache/api:<image>-<branch>) and set "
        "`cache: registry` on the image",
        "c.yaml:6: services.api.build.cache_to: no per-image cache refs here: write "
        "cache-config/local.yaml with `type: local` and `dir: /tmp/cache` and set "
        "`cache: local` on the image",
        "c.yaml:7: services.api.build.privileged: no equivalent here (BuildKit's "
        "security.insecure entitlement): left out",
        "c.yaml:8: services.api.build.entitlements: no equivalent here (for network.host, write "
        "network: host): left out",
        "c.yaml:9: services.api.build.isolation: no equivalent here (a Windows container's "
        "isolation): left out",
        "c.yaml:10: services.api.build.frobnicate: not a compose build field: left out"]


def test_a_field_that_asks_for_nothing_is_no_loss() -> None:
    result = convert("      context: .\n      privileged: false\n      entitlements: []\n"
                     "      isolation: default\n      target: ~\n")
    assert result.notes == [] and "target" not in result.images["web"]


# --- variables ---------------------------------------------------------------------------------


def test_variables_are_read_from_the_environment_by_the_pipeline() -> None:
    result = compose("""\
        services:
          web:
            image: ${REGISTRY:-localhost:5000}/web:${TAG:-dev}
            platform: $PLATFORM
            build:
              context: ${CONTEXT:-.}
              args: ["VERSION=${VERSION:?set VERSION}", "HOME=$$HOME"]
              labels: {built-by: "${USER}"}
              additional_contexts: {x: "${X_DIR:-./x}"}
        secrets:
          s: {file: "${SECRETS}/s"}
        """, dotenv=True)
    assert result.images["web"] == {
        "context": "${env.CONTEXT:-.}",
        "args": {"VERSION": "${env.VERSION}", "HOME": "$$HOME"},
        "labels": {"built-by": "${env.USER:-}"},
        "contexts": {"x": "${env.X_DIR:-./x}"},
        "platforms": ["${env.PLATFORM:-}"],
        "tags": ["${env.REGISTRY:-localhost:5000}/web:${env.TAG:-dev}"]}
    assert result.notes == [
        "c.yaml: ${CONTEXT}, ${VERSION}, ${USER}, ${X_DIR}, ${PLATFORM} and 2 more are read from "
        "the environment (as ${env.NAME}); compose also reads .env beside the file, buildorch "
        "does not: export what it sets, or write the values in"]
    assert compose("services:\n  web: {build: '${C}'}\n").notes == []  # no .env: nothing to say


def test_an_alternative_value_has_no_equivalent() -> None:
    result = convert("      context: .\n      args: {DEBUG: '${DEBUG:+--debug}'}\n")
    assert result.images["web"]["args"] == {"DEBUG": ""}
    assert result.notes == ["c.yaml:5: services.web.build.args.DEBUG: ${DEBUG:+--debug}: no "
                            "${VAR:+...} here: written as if the variable were unset"]


def test_a_variable_in_a_list_entry_s_name() -> None:
    result = convert("      context: .\n      args: ['${NAME}=1']\n")
    assert result.images["web"]["args"] == {"${NAME}": "1"}
    assert result.notes == ["c.yaml:5: services.web.build.args.${NAME}: a variable in a name is "
                            "taken as written here"]


# --- what compose refuses --------------------------------------------------------------------


@pytest.mark.parametrize(("build", "message"), [
    ("ssh: [=/k]", r"services\.web\.build\.ssh: an ssh entry needs an id"),
    ("ssh: [1]", r"services\.web\.build\.ssh\[0\]: expected a KEY=VALUE string"),
    ("secrets: token", r"services\.web\.build\.secrets: expected a list of secrets"),
    ("secrets: [{target: x}]", r"services\.web\.build\.secrets\[0\]: expected a secret's name"),
    ("target: [a]", r"services\.web\.build\.target: expected a string, got list"),
    ("platforms: {a: 1}", r"services\.web\.build\.platforms: expected a list of strings"),
    ("tags: [[a]]", r"services\.web\.build\.tags\[0\]: expected a string, got list"),
    ("ulimits: [1]", r"services\.web\.build\.ulimits: expected a mapping of limits"),
    ("extra_hosts: 1", r"services\.web\.build\.extra_hosts: expected a list of host:ip"),
    ("dockerfile: 'cost $5'", r"services\.web\.build\.dockerfile: invalid variable reference"),
    ("args: {A: '${'}", r"services\.web\.build\.args\.A: unclosed '\$\{'"),
])
def test_a_value_compose_would_refuse_is_an_error_that_names_it(build: str,
                                                                 message: str) -> None:
    with pytest.raises(ConversionError, match=message):
        convert(f"      context: .\n      {build}\n")


@pytest.mark.parametrize(("text", "message"), [
    ("[1]", "a compose file is a mapping"),
    ("{version: '3'}", "no 'services' mapping"),
    ("services: {db: {image: postgres}}", "no service has a 'build' section"),
    ("services: {web: {build: [1]}}", r"services\.web\.build: expected a path or a mapping"),
    ("services: {web: {build: ., image: [1]}}", r"services\.web\.image: expected an image"),
    ("services: {web: {build: ., profiles: dev}}", r"services\.web\.profiles: expected a list"),
])
def test_files_compose_would_refuse(text: str, message: str) -> None:
    with pytest.raises(ConversionError, match=message):
        compose(text)


# --- the result validates ----------------------------------------------------------------------

DOCKERFILE = "FROM localhost:5000/busybox:latest AS base\nFROM base AS runtime\nRUN true\n"


def test_the_converted_pipeline_validates(tmp_path: Path) -> None:
    for folder in ("base", "api", "worker", "files"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "key.pem").write_text("k")
    text = textwrap.dedent("""\
        name: shop
        services:
          base:
            image: localhost:5000/shop/base:${TAG:-dev}
            build: {context: ./base, target: runtime, args: [V=3.10]}
          api:
            build:
              context: ./api
              additional_contexts: {base: "service:base", files: ./files}
              secrets: [token, {source: key, target: ssh_key}]
              ssh: [default]
              labels: [a=b]
              cache_from: [localhost:5000/cache/api]
              platforms: [linux/amd64]
              provenance: mode=max
            depends_on: {base: {condition: service_started}, db: {condition: service_healthy}}
            ports: ["80:80"]
          worker:
            extends: api
            build: {context: ./worker}
            profiles: [jobs]
          db: {image: postgres}
        secrets:
          token: {environment: TOKEN}
          key: {file: ./key.pem}
        """)
    result = from_compose(parse_yaml(text, "compose.yaml"), "x")
    (tmp_path / "buildorch.yaml").write_text(result.to_yaml())
    loaded = load_pipeline(tmp_path / "buildorch.yaml", LoadOptions(env={}))
    assert set(loaded.model.images) == {"base", "api", "worker"}
    api = loaded.model.images["api"]
    assert api.depends_on == ["base"] and api.tags == ["shop-api"]
    assert loaded.images["base"].spec.tags == ["localhost:5000/shop/base:dev"]
    assert loaded.model.groups == {"default": ["base", "api"], "jobs": ["default", "worker"]}


# --- generated files ---------------------------------------------------------------------------

T = TypeVar("T")
JUNK = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False),
                 st.sampled_from(["", ".", "${", "$1", "$$", "a=b", "=x", "x=", "${A:+b}"]))
ANY = st.recursive(JUNK, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                 st.dictionaries(st.sampled_from(
                                                     ["a", "source", "target", "condition",
                                                      "soft", "service", "file"]), inner,
                                                     max_size=3)), max_leaves=6)
NAMES = ["a", "b", "c", "a b", "A", "db", "nope"]
SERVICE = st.sampled_from(NAMES)
TEXT = st.sampled_from(["x", "./x", "${A}", "${A:-b}", "$$HOME", "3.10", "linux/amd64",
                        "localhost:5000/x:1", "type=registry,ref=r/c", "default", "gh=/k"])


ABSENT = object()


def mostly(sensible: st.SearchStrategy[T]) -> st.SearchStrategy[T | object]:
    """The sensible value nine times in ten, any value else."""
    return st.integers(0, 9).flatmap(lambda i: sensible if i else ANY)


def sometimes(percent: int, value: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.integers(0, 99).flatmap(lambda i: value if i < percent else st.just(ABSENT))


def record(**fields: st.SearchStrategy[object]) -> st.SearchStrategy[dict[str, object]]:
    """A mapping of the fields drawn present."""
    return st.fixed_dictionaries(fields).map(
        lambda d: {k: v for k, v in d.items() if v is not ABSENT})


KEY_VALUES = st.one_of(st.dictionaries(st.sampled_from(["A", "B", "C"]),
                                       st.one_of(st.none(), TEXT, st.integers())),
                       st.lists(st.sampled_from(["A=1", "B", "C=${A}", "D="])))
BUILD_FIELDS = {
    "context": TEXT, "dockerfile": TEXT, "dockerfile_inline": TEXT, "target": TEXT,
    "network": st.sampled_from(["host", "none", "default"]), "args": KEY_VALUES,
    "labels": KEY_VALUES, "ssh": st.one_of(TEXT, st.lists(TEXT, max_size=2)),
    "secrets": st.lists(st.one_of(st.sampled_from(["s", "e", "u", "x"]), st.fixed_dictionaries(
        {"source": st.sampled_from(["s", "e"])}, optional={"target": TEXT, "mode": JUNK}))),
    "cache_from": st.lists(TEXT, max_size=2), "cache_to": st.lists(TEXT, max_size=2),
    "additional_contexts": st.dictionaries(st.sampled_from(["p", "q"]), st.one_of(
        TEXT, SERVICE.map(lambda n: f"service:{n}"))),
    "extra_hosts": st.lists(st.sampled_from(["h:10.0.0.1", "h=::1"])), "no_cache": JUNK,
    "no_cache_filter": st.lists(TEXT), "pull": st.booleans(), "tags": st.lists(TEXT),
    "platforms": st.lists(TEXT, max_size=2), "shm_size": st.sampled_from(["64m", 1024]),
    "ulimits": st.dictionaries(st.sampled_from(["nofile"]), st.one_of(
        st.integers(), st.just("1:2"), st.fixed_dictionaries({"soft": JUNK, "hard": JUNK}))),
    "provenance": JUNK, "sbom": JUNK, "privileged": JUNK, "isolation": JUNK,
    "entitlements": ANY, "x-ext": ANY, "junk": ANY,
}
BUILD = st.one_of(TEXT, mostly(record(**{k: sometimes(25, mostly(v))
                                         for k, v in BUILD_FIELDS.items()})))
DEPENDS = st.one_of(st.lists(SERVICE, max_size=3),
                    st.dictionaries(SERVICE, st.just({"condition": "service_started"})))
SERVICE_FIELDS = record(
    build=sometimes(85, BUILD), image=sometimes(40, mostly(TEXT)),
    platform=sometimes(10, mostly(TEXT)),
    profiles=sometimes(15, mostly(st.lists(st.sampled_from(["dev", "a", "x y"])))),
    depends_on=sometimes(30, mostly(DEPENDS)), extends=sometimes(8, mostly(SERVICE)),
    ports=sometimes(30, ANY), **{"x-y": sometimes(10, ANY)})
FILES = record(
    services=mostly(st.dictionaries(SERVICE, mostly(SERVICE_FIELDS), min_size=1, max_size=5)),
    secrets=sometimes(50, mostly(st.just({"s": {"file": "./s"}, "e": {"environment": "E"},
                                          "x": {"external": True}}))),
    name=sometimes(20, JUNK), include=sometimes(10, ANY), **{"x-top": sometimes(10, ANY)})


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FILES)
def test_any_compose_file_ends_in_a_pipeline_or_a_conversion_error(data: dict[str, object],
                                                                    ) -> None:
    source = parse_yaml(yaml.safe_dump(data), "c.yaml")
    try:
        result = from_compose(source, "p", dotenv=True)
    except ConversionError as exc:
        event(f"error: {exc.message[:30]}")
        assert exc.message and "\n" not in exc.message
        return
    event(f"pipeline of {len(result.images)} images")
    written = yaml.safe_load(result.to_yaml())
    assert set(written["images"]) == set(result.images) and result.images
    assert all(note.startswith("c.yaml") and "\n" not in note for note in result.notes)
