"""Matrix images, as bake's `target.matrix` (docker/buildx `bake/bake.go` GetEvalContexts and
GetName, `bake/hclparser/hclparser.go` resolveBlockNames, `ParseFiles`' group of a renamed
target; docs/bake-reference.md "target.matrix"): expansion, names, values, references
between matrix images, and every error at the template's line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from buildorch.cli.main import main
from buildorch.errors import ConfigError, ConfigErrors
from buildorch.pipeline.interpolation import InterpolationError
from buildorch.pipeline.loaded import LoadedPipeline
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from buildorch.pipeline.matrix import MAX_IMAGES, Scope
from tests.conftest import MakeProject

HEAD = "version: 1\nname: p\n"
PY_LIB = """\
  py-lib:
    matrix:
      py: ["3.11", 3.12]
      os: [alpine, debian]
    name: py-lib-${py}-${os}
    context: lib
    args: {PYTHON_VERSION: "${py}", OS: "${os}"}
    tags: ["r/py-lib:${py}-${os}"]
"""


def load(make_project: MakeProject, images: str, head: str = HEAD, *,
         sets: tuple[str, ...] = (), tail: str = "",
         files: dict[str, str] | None = None) -> LoadedPipeline:
    body = textwrap.indent(textwrap.dedent(images), "  ")
    path = make_project(head + "images:\n" + body + tail, files,
                        contexts=() if files else ("lib", "app"))
    return load_pipeline(path, LoadOptions(env={}, sets=sets))


def error_of(make_project: MakeProject, images: str, head: str = HEAD,
             **kwargs: object) -> str:
    with pytest.raises(ConfigError) as err:
        load(make_project, images, head, **kwargs)  # type: ignore[arg-type]
    errors = err.value.errors if isinstance(err.value, ConfigErrors) else [err.value]
    assert len(errors) == 1, [e.render() for e in errors]
    return errors[0].render().replace(str(err.value.file), "P", 1)


def test_one_image_per_combination_first_axis_slowest_values_as_written(
        make_project: MakeProject) -> None:
    p = load(make_project, PY_LIB)
    assert list(p.images) == ["py-lib-3.11-alpine", "py-lib-3.11-debian",
                              "py-lib-3.12-alpine", "py-lib-3.12-debian"]
    spec = p.images["py-lib-3.12-debian"].spec
    assert spec.args == {"PYTHON_VERSION": "3.12", "OS": "debian"}  # 3.12 unquoted: as written
    assert spec.tags == ["r/py-lib:3.12-debian"]
    assert p.model.groups["py-lib"] == list(p.images)
    assert p.entry_key("py-lib-3.11-alpine") == "py-lib"


def test_an_expanded_image_takes_the_place_of_its_template(make_project: MakeProject) -> None:
    p = load(make_project, "  first: {context: app}\n" + PY_LIB[:PY_LIB.index("    name")]
             .replace("os: [alpine, debian]", "os: [alpine]") + "    name: m-${py}\n"
             "    context: lib\n  last: {context: app}\n")
    assert list(p.images) == ["first", "m-3.11", "m-3.12", "last"]


def test_values_shadow_vars_and_vars_still_reach_the_entry(make_project: MakeProject) -> None:
    head = HEAD + "vars: {py: shadowed, REG: r.example}\n"
    p = load(make_project, """\
      m:
        matrix: {py: ["3.11"]}
        name: m-${py}
        context: lib
        tags: ["${REG}/m:${py}", "${REG}/m:${py:-none}-${OTHER:-x}"]
        labels: {v: "$${py}"}
    """, head)
    spec = p.images["m-3.11"].spec
    assert spec.tags == ["r.example/m:3.11", "r.example/m:3.11-x"]
    assert spec.labels == {"v": "${py}"}  # `$$` stays literal


def test_every_string_field_takes_the_values(make_project: MakeProject) -> None:
    p = load(make_project, """\
      base:
        matrix: {v: [lib, app]}
        name: base-${v}
        context: ${v}
        dockerfile: Dockerfile
        target: "${v}-stage"
        description: the ${v} base
        outputs: ["type=local,dest=out/${v}"]
        tags: ["r/base:${v}"]
      use:
        matrix: {v: [lib, app]}
        name: use-${v}
        context: lib
        depends_on: ["base-${v}"]
        contexts: {b: {image: "base-${v}"}, d: "docker-image://r/x:${v}"}
        labels: {v: "${v}"}
    """, files={"lib/Dockerfile": "FROM scratch AS lib-stage\n",
                "app/Dockerfile": "FROM scratch AS app-stage\n"})
    base = p.images["base-app"]
    assert (base.spec.target, base.spec.description, base.spec.outputs) == (
        "app-stage", "the app base", ["type=local,dest=out/app"])
    assert base.context_dir is not None and base.context_dir.name == "app"
    use = p.images["use-lib"].spec
    assert use.depends_on == ["base-lib"]
    assert use.contexts["b"].image == "base-lib"  # type: ignore[union-attr]
    assert use.contexts["d"] == "docker-image://r/x:lib"


def load_files(make_project: MakeProject, images: str, files: dict[str, str]) -> LoadedPipeline:
    path = make_project(HEAD + "images:\n" + textwrap.dedent(images), files=files)
    return load_pipeline(path, LoadOptions(env={}))


def test_mapping_values_are_named_by_key(make_project: MakeProject) -> None:
    p = load(make_project, """\
      m:
        matrix:
          item:
            - {tgt: a, v: 1.10}
            - {tgt: b, v: "2"}
        name: m-${item.tgt}
        context: lib
        args: {V: "${item.v}"}
    """)
    assert {n: i.spec.args["V"] for n, i in p.images.items()} == {"m-a": "1.10", "m-b": "2"}


def test_a_key_names_all_its_images_in_groups_depends_on_and_selections(
        make_project: MakeProject) -> None:
    p = load(make_project, PY_LIB + "  app:\n    context: app\n    depends_on: [other, py-lib]\n"
             "  other: {context: app}\n", tail="groups:\n  ci: [py-lib, app]\n")
    assert p.images["app"].spec.depends_on == [
        "other", "py-lib-3.11-alpine", "py-lib-3.11-debian", "py-lib-3.12-alpine",
        "py-lib-3.12-debian"]
    assert p.model.groups["ci"] == ["py-lib", "app"]
    assert p.model.groups["py-lib"][0] == "py-lib-3.11-alpine"


def test_depends_on_keeps_the_index_of_later_entries(make_project: MakeProject) -> None:
    with pytest.raises(ConfigError) as err:
        load(make_project, PY_LIB + "  app:\n    context: app\n    depends_on:\n"
             "      - py-lib\n      - nope\n")
    assert "images.app.depends_on[1]: unknown image 'nope'" in str(err.value)
    assert err.value.line == 16


def test_one_combination_needs_no_name_and_keeps_the_key(make_project: MakeProject) -> None:
    p = load(make_project, """\
      m:
        matrix: {py: ["3.12"]}
        context: lib
        args: {V: "${py}"}
    """)
    assert list(p.images) == ["m"]
    assert p.images["m"].spec.args == {"V": "3.12"}
    assert "m" not in p.model.groups  # bake: no group where the name did not change


def test_templates_expand_to_templates_that_images_inherit(make_project: MakeProject) -> None:
    p = load(make_project, """\
      _base:
        matrix: {py: ["3.11", "3.12"]}
        name: _base-${py}
        args: {PY: "${py}"}
      lib:
        matrix: {py: ["3.11", "3.12"]}
        name: lib-${py}
        inherits: ["_base-${py}"]
        context: lib
        labels: {py: "${py}"}
    """, HEAD + "defaults: {labels: {team: core}}\n")
    assert list(p.images) == ["lib-3.11", "lib-3.12"]
    spec = p.images["lib-3.12"].spec
    assert (spec.args, spec.labels) == ({"PY": "3.12"}, {"team": "core", "py": "3.12"})


def test_set_applies_to_expanded_names_globs_and_the_key(make_project: MakeProject) -> None:
    p = load(make_project, PY_LIB, sets=("py-lib.args.X=1", "py-lib-3.12-*.description=t",
                                         "py-lib-3.11-alpine.labels.org.x.y=z"))
    assert all(i.spec.args["X"] == "1" for i in p.images.values())
    assert [n for n, i in p.images.items() if i.spec.description == "t"] == [
        "py-lib-3.12-alpine", "py-lib-3.12-debian"]
    assert p.images["py-lib-3.11-alpine"].spec.labels == {"org.x.y": "z"}


def test_errors_of_an_expanded_image_name_the_templates_line(make_project: MakeProject) -> None:
    with pytest.raises(ConfigErrors) as err:
        load(make_project, PY_LIB.replace("context: lib", "context: lib\n    shm_size: lots"))
    lines = {(e.line, e.field) for e in err.value.errors}
    assert lines == {(10, f"images.py-lib-{v}.shm_size") for v in
                     ("3.11-alpine", "3.11-debian", "3.12-alpine", "3.12-debian")}


def test_field_path_of_an_expanded_image_is_at_the_template(make_project: MakeProject) -> None:
    p = load(make_project, PY_LIB)
    assert p.where(p.field_path("py-lib-3.12-debian", "args", "OS")) == (str(p.display), 10)
    assert p.where(p.field_path("py-lib-3.12-debian", "tags", 0))[1] == 11


def test_a_value_error_names_the_image_it_is_in(make_project: MakeProject) -> None:
    assert error_of(make_project, """\
      m:
        matrix: {v: [lib, nope]}
        name: m-${v}
        context: ${v}
    """) == "P:7: images.m-nope.context: build context folder not found: nope"


@pytest.mark.parametrize(("body", "line", "field", "message"), [
    ("matrix: {py: []}\nname: m-${py}\n", 6, "images.m.matrix.py",
     "must not be empty: an axis without values gives no image"),
    ("matrix: {py: '3.11'}\nname: m-${py}\n", 6, "images.m.matrix.py",
     "expected a list of values, got a string"),
    ("matrix: [py]\nname: m\n", 6, "images.m.matrix",
     "expected a mapping of axes to lists of values"),
    ("matrix: {}\nname: m\n", 6, "images.m.matrix", "must not be empty"),
    ("matrix: {py: [a, a]}\nname: m-${py}\n", 7, "images.m.name",
     "combinations py=a and py=a are both named 'm-a': use every axis in the name"),
    ("matrix: {py: [a], os: [x, y]}\nname: m-${py}\n", 7, "images.m.name",
     "combinations py=a, os=x and py=a, os=y are both named 'm-a'"),
    ("matrix: {py: [app, b]}\nname: ${py}\n", 7, "images.m.name",
     "'app' (py=app) is also the name of image 'app'"),
    ("matrix: {py: [m, b]}\nname: ${py}\n", 7, "images.m.name",
     "'m' (py=m) is also the name of image 'm'"),
    ("matrix: {py: [a, b]}\n", 5, "images.m.name",
     "required field is missing: a matrix of 2 combinations needs a name template, as "
     "m-${py}"),
    ("name: m-x\n", 6, "images.m.name", "a name template needs a matrix"),
    ("matrix: {py: [a, b]}\nname: m-${pyy}\n", 7, "images.m.name",
     "undefined variable 'pyy'"),
    ("matrix: {py: [a, 'b c']}\nname: m-${py}\n", 7, "images.m.name",
     "'m-b c' (py=b c) is not a valid image name"),
    ("matrix: {py: [a, b]}\nname: _m-${py}\n", 7, "images.m.name",
     "'_m-a' (py=a) would be a template (its name starts with '_'), but the entry is an image"),
    ("matrix: {1py: [a, b]}\nname: m\n", 6, "images.m.matrix.1py", "invalid axis name"),
    ("matrix: {py-v: [a, b]}\nname: m\n", 6, "images.m.matrix.py-v", "invalid axis name"),
    ("matrix: {env: [a, b]}\nname: m-${env}\n", 6, "images.m.matrix.env",
     "the axis name 'env' is reserved"),
    ("matrix: {py: [[a]]}\nname: m\n", 6, "images.m.matrix.py[0]",
     "a matrix value must be a string or a mapping of strings, got a list"),
    ("matrix: {py: [~]}\nname: m\n", 6, "images.m.matrix.py[0]",
     "a matrix value must be a string or a mapping of strings, got null"),
    ("matrix: {it: [{1k: a}]}\nname: m\n", 6, "images.m.matrix.it[0].1k", "invalid key"),
    ("matrix: {it: [{k: a}, {k: b}]}\nname: m-${it}\n", 7, "images.m.name",
     "matrix axis 'it' holds mappings: name a key, as ${it.k}"),
    ("matrix: {it: [{k: a}, {k: b}]}\nname: m-${it.j}\n", 7, "images.m.name",
     "no key 'j' in this value of matrix axis 'it' (keys: k)"),
    ("matrix: {py: [a, b]}\nname: m-${py.k}\n", 7, "images.m.name",
     "matrix axis 'py' holds strings, not mappings"),
    ("name: [x]\nmatrix: {py: [a]}\n", 6, "images.m.name", "expected a string, got a list"),
])
def test_matrix_errors_are_one_line_at_the_template(make_project: MakeProject, body: str,
                                                    line: int, field: str,
                                                    message: str) -> None:
    images = "  app: {context: app}\n  m:\n" + textwrap.indent(body, "    ") + \
        "    context: lib\n"
    rendered = error_of(make_project, images)
    assert rendered.startswith(f"P:{line}: {field}: {message}"), rendered


def test_a_name_of_another_matrix_collides(make_project: MakeProject) -> None:
    rendered = error_of(make_project, """\
      a:
        matrix: {v: ["1", "2"]}
        name: x-${v}
        context: lib
      b:
        matrix: {v: ["2", "3"]}
        name: x-${v}
        context: lib
    """)
    assert rendered == ("P:10: images.b.name: 'x-2' (v=2) is also the name of an image of "
                        "matrix 'a'")


def test_a_group_named_as_a_matrix_key_is_an_error(make_project: MakeProject) -> None:
    rendered = error_of(make_project, PY_LIB, tail="groups:\n  py-lib: [py-lib-3.11-alpine]\n")
    assert rendered == ("P:13: groups.py-lib: group 'py-lib' has the name of a matrix entry, "
                        "which stands for its images")


def test_a_named_context_cannot_name_a_whole_matrix(make_project: MakeProject) -> None:
    rendered = error_of(make_project, PY_LIB + "  app:\n    context: app\n"
                        "    contexts: {b: {image: py-lib}}\n")
    assert rendered.startswith("P:14: images.app.contexts.b.image: 'py-lib' is a group (or a "
                               "matrix) of images (py-lib-3.11-alpine, py-lib-3.11-debian, "
                               "py-lib-3.12-alpine, ...); a named context is one image")


def test_naming_a_broken_matrix_is_no_further_error(make_project: MakeProject) -> None:
    rendered = error_of(make_project, """\
      m:
        matrix: {py: []}
        name: m-${py}
        context: lib
      app:
        context: app
        depends_on: [m]
    """, sets=("m.args.X=1",), tail="groups:\n  g: [m, app]\n")
    assert rendered.startswith("P:5: images.m.matrix.py: must not be empty")


def test_a_pipeline_of_only_a_broken_matrix_says_only_that(make_project: MakeProject) -> None:
    assert error_of(make_project, "  m: {matrix: {py: []}, name: m, context: lib}\n").startswith(
        "P:4: images.m.matrix.py: must not be empty")


def test_set_cannot_give_a_matrix_or_a_name(make_project: MakeProject) -> None:
    for item in ("py-lib.name=x", "py-lib-3.11-alpine.matrix=x"):
        with pytest.raises(ConfigError, match="is expanded before --set applies"):
            load(make_project, PY_LIB, sets=(item,))


def test_defaults_take_no_matrix(make_project: MakeProject) -> None:
    rendered = error_of(make_project, "  a: {context: lib}\n",
                        HEAD + "defaults:\n  matrix: {py: [a]}\n")
    assert rendered.startswith("P:4: defaults.matrix: unknown field 'matrix'")


def test_the_number_of_images_is_bounded(make_project: MakeProject) -> None:
    axes = ", ".join(f"a{i}: [{', '.join(str(v) for v in range(10))}]" for i in range(5))
    assert MAX_IMAGES < 10 ** 5
    rendered = error_of(make_project, f"  m: {{matrix: {{{axes}}}, name: m, context: lib}}\n")
    assert rendered == ("P:4: images.m.matrix: the matrices expand to more than 10,000 images")


def test_scope_looks_up_axes_only() -> None:
    scope = Scope({"py": "3.11", "it": {"k": "v"}})
    assert (scope("py"), scope("it.k"), scope("other"), scope("other.k")) == (
        "3.11", "v", None, None)
    with pytest.raises(InterpolationError):
        scope("it")


def test_no_matrix_leaves_the_pipeline_as_it_was(make_project: MakeProject) -> None:
    p = load(make_project, "  a: {context: lib}\n")
    assert (list(p.images), p.model.groups, p.entry_key("a")) == (["a"], {}, "a")


def test_the_example_in_the_design_loads(tmp_path: Path) -> None:
    (tmp_path / "libs" / "py").mkdir(parents=True)
    (tmp_path / "libs" / "py" / "Dockerfile").write_text("ARG PYTHON_VERSION\nFROM scratch\n")
    (tmp_path / "p.yaml").write_text(HEAD + "vars: {REGISTRY: r, TAG: t}\nimages:\n"
                                     "  py-lib:\n"
                                     "    matrix: {py: [\"3.11\", \"3.12\"]}\n"
                                     "    name: py-lib-${py}\n"
                                     "    context: libs/py\n"
                                     "    args: {PYTHON_VERSION: \"${py}\"}\n"
                                     "    tags: [\"${REGISTRY}/py-lib:${TAG}-py${py}\"]\n")
    p = load_pipeline(tmp_path / "p.yaml", LoadOptions(env={}))
    assert {n: i.spec.tags for n, i in p.images.items()} == {
        "py-lib-3.11": ["r/py-lib:t-py3.11"], "py-lib-3.12": ["r/py-lib:t-py3.12"]}


def test_names_a_broken_matrix_may_give_are_no_further_error(make_project: MakeProject) -> None:
    with pytest.raises(ConfigErrors) as err:
        load(make_project, """\
      _base:
        matrix: {py: ["3.11", "3.12"]}
        name: _base-${py}/x
      base:
        matrix: {py: ["3.11"], os: []}
        name: base-${py}
        context: lib
      lib:
        matrix: {py: ["3.11", "3.12"]}
        name: lib-${py}
        inherits: ["_base-${py}"]
        depends_on: ["base-${py}"]
        contexts: {b: {image: "base-${py}"}}
        context: lib
    """, tail="groups:\n  g: [base-3.11, lib]\n")
    assert [(e.line, e.field) for e in err.value.errors] == [
        (6, "images._base.name"), (8, "images.base.matrix.os")]


def test_with_every_matrix_sound_an_unknown_name_is_an_error(make_project: MakeProject) -> None:
    assert error_of(make_project, PY_LIB + "  app:\n    context: app\n"
                    "    depends_on: [py-lib-3.13-alpine]\n").startswith(
        "P:14: images.app.depends_on[0]: unknown image 'py-lib-3.13-alpine'")


def test_schema_shows_matrix_and_name_with_descriptions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    image = json.loads(capsys.readouterr().out)["pipeline"]["$defs"]["Image"]["properties"]
    assert "bake's matrix" in image["matrix"]["description"]
    assert "py-lib-${py}-${os}" in image["name"]["description"]
