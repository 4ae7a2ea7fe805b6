"""A table of bad pipelines: each exits 2 with one line naming file:line and field.

Nothing may run: stdout stays empty and no run folder appears.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from buildorch.cli.main import main
from buildorch.workdir import RUNS

HEAD = "version: 1\nname: shop\n"
OK_DOCKERFILE = "FROM localhost:5000/busybox:latest AS build\nFROM build AS runtime\n"


@dataclass(frozen=True)
class Case:
    id: str
    pipeline: str
    line: int | None  # None: the error names another file (given in `where`)
    field: str
    message: str
    files: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    where: str = "pipeline.yaml"


def img(body: str, name: str = "a") -> str:
    return HEAD + "images:\n" + f"  {name}:\n" + textwrap.indent(textwrap.dedent(body), "    ")


CASES = [
    Case("yaml-syntax", HEAD + "images:\n  a: {context: a\n  b: 1\n", 5, "",
         "YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping on "
         "line 4)"),
    Case("not-a-mapping", "- a\n- b\n", 1, "", "must be a YAML mapping"),
    Case("unknown-top-level-key", HEAD + "imagez: {}\nimages:\n  a: {context: a}\n", 3,
         "imagez", "unknown field 'imagez' (did you mean 'images'?)"),
    Case("unknown-image-key", img("context: a\ndockerfle: Dockerfile\n"), 6,
         "images.a.dockerfle", "unknown field 'dockerfle' (did you mean 'dockerfile'?)"),
    Case("tags-not-a-list", img("context: a\ntags: localhost:5000/a\n"), 6, "images.a.tags",
         "expected a list"),
    Case("label-name-with-equals", img("context: a\nlabels: {'team=x': core}\n"), 6,
         "images.a.labels.team=x", "a name must not hold '=': it goes on as NAME=VALUE"),
    Case("build-arg-name-with-equals", img("context: a\nargs:\n  A=B: '1'\n"), 7,
         "images.a.args.A=B", "a name must not hold '=': it goes on as NAME=VALUE"),
    Case("push-not-bool", img("context: a\npush: maybe\n"), 6, "images.a.push",
         "expected true or false"),
    Case("wrong-version", "version: 2\nname: shop\nimages:\n  a: {context: a}\n", 1, "version",
         "must be one of 1"),
    Case("missing-name", "version: 1\nimages:\n  a: {context: a}\n", 1, "name",
         "required field is missing"),
    Case("no-images", HEAD + "images: {}\n", 3, "images", "must not be empty"),
    Case("image-without-context", img("target: runtime\n"), 4, "images.a.context",
         "required field is missing"),
    Case("unknown-depends-on", img("context: a\ndepends_on: [base]\n"), 6,
         "images.a.depends_on[0]", "unknown image 'base'"),
    Case("unknown-context-image", img("context: a\ncontexts:\n  base: {image: nope}\n"), 7,
         "images.a.contexts.base.image", "unknown image 'nope'"),
    Case("unknown-group-member", img("context: a\n") + "groups:\n  ci: [a, nope]\n", 7,
         "groups.ci[1]", "unknown image or group 'nope'"),
    Case("group-named-like-image", img("context: a\n") + "groups:\n  a: [a]\n", 7, "groups.a",
         "same name as an image"),
    Case("missing-context", img("context: nowhere\n"), 5, "images.a.context",
         "build context folder not found: nowhere"),
    Case("missing-default-dockerfile", img("context: empty\n"), 5, "images.a.context",
         "Dockerfile not found", files={"empty/README": "no Dockerfile here\n"}),
    Case("missing-named-dockerfile", img("context: a\ndockerfile: Other.Dockerfile\n"), 6,
         "images.a.dockerfile", "Dockerfile not found"),
    Case("unknown-target", img("context: a\ntarget: tset\n"), 6, "images.a.target",
         "target 'tset' is not a stage"),
    # moby/buildkit frontend/dockerui/namedcontext.go: docker-image, git, http(s),
    # oci-layout, local and input are the only named-context sources
    Case("target-context", img("context: a\ncontexts: {base: 'target:build'}\n"), 6,
         "images.a.contexts.base", "BuildKit takes no target: named context"),
    Case("ssh-context", img("context: a\ncontexts: {src: 'ssh://git@h/r.git'}\n"), 6,
         "images.a.contexts.src", "BuildKit takes no ssh:// named context"),
    Case("duplicate-tag", HEAD + "images:\n  a: {context: a, tags: [x/y:1]}\n"
         "  b: {context: a, tags: [x/y:1]}\n", 5, "images.b.tags[0]",
         "tag 'x/y:1' is also a tag of image 'a'"),
    Case("cycle", HEAD + "images:\n  a: {context: a, depends_on: [b]}\n"
         "  b: {context: a, depends_on: [a]}\n", None, "images.", "dependency cycle: "),
    Case("self-dependency", img("context: a\ndepends_on: [a]\n"), 6, "images.a.depends_on[0]",
         "cannot depend on itself"),
    Case("undefined-variable", img("context: a\ntags: [\"${REGISTRY}/a\"]\n"), 6,
         "images.a.tags[0]", "undefined variable 'REGISTRY'"),
    Case("bad-variable-syntax", img("context: a\ntags: [\"${1REG}/a\"]\n"), 6,
         "images.a.tags[0]", "bad variable reference"),
    Case("unclosed-variable", img("context: a\ntarget: ${T\n"), 6, "images.a.target",
         "unclosed"),
    Case("variable-cycle", "version: 1\nname: shop\nvars:\n  A: ${B}\n  B: ${A}\n"
         "images:\n  a: {context: a}\n", 4, "vars.A", "refer to each other"),
    Case("duplicate-yaml-key", img("context: a\ncontext: b\n"), 6, "images.a.context",
         "duplicate key 'context'"),
    Case("secret-two-sources", img("context: a\nsecrets:\n  - {id: t, src: f, env: T}\n"), 7,
         "images.a.secrets[0]", "exactly one of 'src'"),
    Case("secret-without-id", img("context: a\nsecrets:\n  - {env: T}\n"), 7,
         "images.a.secrets[0].id", "required field is missing"),
    Case("unknown-backend", HEAD + "builders:\n  - {name: b, backend: podman}\n"
         "images:\n  a: {context: a}\n", 4, "builders[0].backend", "must be one of"),
    Case("unknown-builder", img("context: a\nbuilder: remote\n"), 6, "images.a.builder",
         "unknown builder 'remote'"),
    Case("bad-image-name", HEAD + "images:\n  'my image': {context: a}\n", 4, "images",
         "invalid name"),
    Case("unknown-cache-profile", img("context: a\ncache: nope\n"), 6, "images.a.cache",
         "cache profile 'nope' not found"),
    Case("bad-cache-profile", img("context: a\ncache: bad\n"), 1, "type", "must be one of",
         files={"cache-config/bad.yaml": "type: ftp\n"}, where="cache-config/bad.yaml"),
    Case("dockerfile-without-from", img("context: nofrom\n"), 5, "images.a.context",
         "Dockerfile", files={"nofrom/Dockerfile": "RUN true\n"}),
    Case("set-unknown-field", img("context: a\n"), None, "images.a.bogus",
         "unknown field 'bogus'", args=("--set", "a.bogus=1"), where="--set a.bogus=1"),
    Case("max-parallel-zero", HEAD + "builders:\n  - {name: b, max_parallel: 0}\n"
         "images:\n  a: {context: a}\n", 4, "builders[0].max_parallel", "greater than or equal"),
    Case("defaults-wrong-type", HEAD + "defaults:\n  platforms: linux/amd64\n"
         "images:\n  a: {context: a}\n", 4, "defaults.platforms", "expected a list"),
    # classes found by fuzzing the loader (issue 9): each a clean exit 2, one line
    Case("yaml-tag-float", img("context: a\nestimated_seconds: !!float abc\n"), 6,
         "images.a.estimated_seconds", "abc is not a valid float"),
    Case("yaml-tag-empty-float", img("context: a\nestimated_seconds: !!float\n"), 6,
         "images.a.estimated_seconds", "is not a valid float"),
    Case("yaml-tag-bool", img("context: a\npush: !!bool maybe\n"), 6, "images.a.push",
         "maybe is not a valid bool"),
    Case("yaml-tag-timestamp", HEAD + "vars: {X: !!timestamp x}\nimages:\n  a: {context: a}\n",
         3, "vars.X", "x is not a valid timestamp"),
    Case("yaml-recursive-alias", HEAD + "vars: &v {X: *v}\nimages:\n  a: {context: a}\n", 3,
         "vars.X", "an alias refers to the value that holds it"),
    Case("yaml-alias-bomb", HEAD + "".join(
        f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}" if i > 1 else "lol"] * 9) + "]\n"
        for i in range(1, 10)), None, "", "expands to more than 1,000,000 values"),
    Case("yaml-control-character", HEAD.replace("shop", "sh\x07op") +
         "images:\n  a: {context: a}\n", 2, "", "YAML cannot hold the character U+0007"),
    Case("nested-variable-defaults", img("context: a\ntarget: '" + "${A:-" * 200 + "x" +
                                          "}" * 200 + "'\n"), 6, "images.a.target",
         "variables nest more than 32 levels deep"),
    Case("variables-doubling", HEAD + "vars:\n  V0: xxxxxxxxxxxxxxxx\n" + "".join(
        f"  V{i}: ${{V{i - 1}}}${{V{i - 1}}}\n" for i in range(1, 40)) +
         "images:\n  a: {context: a}\n", 21, "vars.V17", "longer than 1 MiB"),
    Case("unknown-home-user", img("context: '~nosuchuser-bo/a'\n"), 5, "images.a.context",
         "cannot expand '~nosuchuser-bo': no such user"),
    Case("path-component-too-long", img(f"context: {'a' * 300}\n"), 5, "images.a.context",
         "build context folder not found: aaaa"),
    Case("defaults-context-unknown-image", HEAD + "defaults:\n  contexts: {b: {image: nope}}\n"
         "images:\n  a: {context: a}\n", 4, "defaults.contexts.b.image", "unknown image 'nope'"),
    Case("defaults-depends-on-unknown", HEAD + "defaults:\n  depends_on: [nope]\n"
         "images:\n  a: {context: a}\n", 4, "defaults.depends_on[0]", "unknown image 'nope'"),
    Case("defaults-builder-unknown", HEAD + "defaults:\n  builder: far\n"
         "images:\n  a: {context: a}\n", 4, "defaults.builder", "unknown builder 'far'"),
    Case("group-cycle", img("context: a\n") + "groups:\n  g1: [a, g2]\n  g2: [g3]\n"
         "  g3: [g1]\n", 7, "groups.g1", "groups contain each other: g1 -> g2 -> g3 -> g1"),
    Case("infinite-estimate", img("context: a\nestimated_seconds: .inf\n"), 6,
         "images.a.estimated_seconds", "finite"),
    Case("invalid-tag", img("context: a\ntags: ['localhost:5000/Shop/a:1']\n"), 6,
         "images.a.tags[0]", "is not an image reference: the repository name must be "
         "lowercase"),
    Case("tag-with-digest", img("context: a\ntags: ['r/a@sha256:" + "a" * 64 + "']\n"), 6,
         "images.a.tags[0]", "a tag cannot have a digest"),
    Case("invalid-image-context", img("context: a\ncontexts: {b: 'docker-image://r/b:'}\n"),
         6, "images.a.contexts.b", "is not an image reference: invalid tag"),
    Case("invalid-from-reference", img("context: bad\n"), 5, "images.a.context",
         "bad/Dockerfile:2: failed to parse stage name 'Localhost:5000/x//y'",
         files={"bad/Dockerfile": "FROM scratch AS s\nFROM Localhost:5000/x//y\n"}),
    Case("dockerfile-nul-byte", img("context: nul\n"), 5, "images.a.context",
         "Dockerfile holds a NUL character", files={"nul/Dockerfile": "FROM a\nRUN x\0y\n"}),
    Case("dockerfile-too-many-lines", img("context: long\n"), 5, "images.a.context",
         "Dockerfile has 30,002 lines; buildorch reads at most 25,000",
         files={"long/Dockerfile": "FROM a\nRUN <<EOF\n" + "x\n" * 30000}),
    Case("echoed-value-is-one-line", img("context: a\ntags: [\"${NOPE\\n\\n}\"]\n"), 6,
         "images.a.tags[0]", "bad variable reference"),
    Case("dockerfile-cycle", HEAD + "images:\n  a: {context: a, tags: [r/a], depends_on: [b]}\n"
         "  b: {context: b, tags: [r/b]}\n", None, "", "dependency cycle: ",
         files={"b/Dockerfile": "FROM r/a\n"}),
    # issue 14's bad input: builders of a pool
    Case("duplicate-builder-name", HEAD + "builders:\n  - {name: b}\n  - {name: b}\n"
         "images:\n  a: {context: a}\n", 5, "builders[1].name", "duplicate builder name 'b'"),
    Case("tls-file-missing", HEAD + "builders:\n  - name: b\n    backend: buildctl\n"
         "    address: tcp://h:1234\n    tls: {ca: certs/ca.pem, cert: certs/c.pem, key: k.pem}\n"
         "images:\n  a: {context: a}\n", 7, "builders[0].tls.cert",
         "TLS file not found: certs/c.pem", files={"certs/ca.pem": "", "k.pem": ""}),
    Case("tls-without-tcp", HEAD + "builders:\n  - name: b\n    backend: buildctl\n"
         "    address: unix:///run/bk.sock\n    tls: {ca: ca.pem}\n"
         "images:\n  a: {context: a}\n", 7, "builders[0].tls", "TLS needs a tcp:// address",
         files={"ca.pem": ""}),
    Case("tls-on-nerdctl", HEAD + "builders:\n  - {name: b, backend: nerdctl, address: "
         "'tcp://h:1', tls: {ca: ca.pem}}\nimages:\n  a: {context: a}\n", 4, "builders[0].tls",
         "nerdctl build cannot use TLS", files={"ca.pem": ""}),
    Case("platform-no-builder-has", HEAD + "builders:\n  - {name: b, platforms: [linux/amd64]}\n"
         "images:\n  a: {context: a, platforms: [linux/arm64]}\n", 6, "images.a.platforms[0]",
         "image 'a' is built for linux/arm64, which no builder builds (b: linux/amd64)"),
    Case("builder-label-nobody-has", HEAD + "builders:\n  - {name: b, labels: [arm, x86]}\n"
         "images:\n  a: {context: a, builder_labels: [gpu]}\n", 6, "images.a.builder_labels[0]",
         "image 'a' asks for builder label 'gpu', which no builder has (labels: arm, x86)"),
]


def write_case(folder: Path, case: Case) -> Path:
    (folder / "a").mkdir(exist_ok=True)
    (folder / "a" / "Dockerfile").write_text(OK_DOCKERFILE)
    for rel, content in case.files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(content)
    (folder / "pipeline.yaml").write_text(case.pipeline)
    return folder / "pipeline.yaml"


def check(case: Case, code: int, out: str, err: str, folder: Path) -> None:
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    message = lines[0]
    prefix = f"buildorch: error: {case.where}"
    assert message.startswith(prefix + (f":{case.line}: " if case.line else "")), message
    if case.line is None and case.where == "pipeline.yaml":
        assert message.startswith(prefix + ":") and message[len(prefix) + 1].isdigit(), message
    assert case.field in message
    assert case.message in message
    assert not (folder / RUNS).exists()  # nothing ran


def test_table_has_enough_distinct_cases() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("command", ["validate", "plan", "graph"])
def test_bad_pipeline_in_process(case: Case, command: str, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    write_case(tmp_path, case)
    monkeypatch.chdir(tmp_path)
    code = main([command, "-f", "pipeline.yaml", *case.args])
    out, err = capsys.readouterr()
    check(case, code, out, err, tmp_path)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_pipeline_as_subprocess(case: Case, tmp_path: Path) -> None:
    write_case(tmp_path, case)
    result = subprocess.run(
        [sys.executable, "-m", "buildorch", "plan", "-f", "pipeline.yaml", *case.args],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    check(case, result.returncode, result.stdout, result.stderr, tmp_path)
