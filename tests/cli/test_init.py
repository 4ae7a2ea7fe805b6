"""`buildorch init`: a pipeline for a repository's Dockerfiles, written only once it
validates."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from buildorch.cli.main import main

BASE = "FROM localhost:5000/busybox:latest\n"
REPO = {
    "base/Dockerfile": BASE,
    "services/api/Dockerfile": ("FROM mycorp/base:1 AS build\nRUN true\nFROM build AS test\n"
                                "RUN true\nFROM build\n"),
    "services/jobs/Dockerfile.worker": f"{BASE}COPY --from=base /bin/sh /sh\n",
    "web/Dockerfile": "FROM api\n",
}
OUT = "buildorch.yaml"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("buildorch: error:")]


def test_init_writes_a_pipeline_that_validates(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    root = write(tmp_path / "shop", REPO)
    assert main(["init", str(root)]) == 0
    out, err = capsys.readouterr()
    data = yaml.safe_load((root / OUT).read_text())
    assert data["name"] == "shop"
    assert data["images"] == {
        "base": {"context": "base", "tags": ["shop-base", "mycorp/base:1", "base"]},
        "api": {"context": "services/api", "tags": ["shop-api", "api"]},
        "api-test": {"context": "services/api", "target": "test", "tags": ["shop-api-test"]},
        "jobs-worker": {"context": "services/jobs", "dockerfile": "Dockerfile.worker",
                        "tags": ["shop-jobs-worker"]},
        "web": {"context": "web", "tags": ["shop-web"]},
    }
    lines = out.splitlines()
    assert lines[-1] == f"wrote {root / OUT}: 5 images, 4 dependencies"
    assert lines[2].split() == ["api", "services/api/Dockerfile", "base"]
    assert lines[3].split() == ["api-test", "services/api/Dockerfile", "test", "base"]
    assert lines[5].split() == ["web", "web/Dockerfile", "api"]
    assert err == ""
    assert main(["validate", "-f", str(root / OUT)]) == 0
    assert "5 images, 4 dependencies" in capsys.readouterr().out
    # an ordinary file, as the umask makes it (not a temporary file's 0600)
    mode = stat.S_IMODE((root / OUT).stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
    assert sorted(p.name for p in root.iterdir()) == ["base", OUT, "services", "web"]


def test_an_existing_file_is_kept_without_force(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    root = write(tmp_path, {**REPO, OUT: "mine\n"})
    assert main(["init", str(root)]) == 2
    _, err = capsys.readouterr()
    assert err == (f"buildorch: error: {root / OUT} exists: pass --force to overwrite it, or -o "
                   "FILE to write another file\n")
    assert (root / OUT).read_text() == "mine\n"
    assert main(["init", str(root), "--force"]) == 0
    assert "images:" in (root / OUT).read_text()


def test_output_elsewhere_has_paths_relative_to_it(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    root = write(tmp_path / "repo", REPO)
    (tmp_path / "ci").mkdir()
    target = tmp_path / "ci" / "pipeline.yaml"
    assert main(["init", str(root), "-o", str(target), "--name", "Shop 2"]) == 0
    data = yaml.safe_load(target.read_text())
    assert data["name"] == "shop-2"
    assert data["images"]["api"]["context"] == "../repo/services/api"
    assert main(["validate", "-f", str(target)]) == 0
    assert not (root / OUT).exists()
    assert main(["init", str(root), "-o", str(tmp_path / "ci")]) == 2  # a folder
    assert "is a folder" in capsys.readouterr().err


@pytest.mark.parametrize("flag", [["--stdout"], ["-o", "-"]])
def test_stdout_prints_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          flag: list[str]) -> None:
    root = write(tmp_path, {**REPO, OUT: "mine\n"})
    before = sorted(p.name for p in root.iterdir())
    assert main(["init", str(root), *flag, "--name", "p"]) == 0
    out, err = capsys.readouterr()
    assert yaml.safe_load(out)["images"]["web"] == {"context": "web", "tags": ["p-web"]}
    assert err == "buildorch: 5 images, 4 dependencies\n"
    assert sorted(p.name for p in root.iterdir()) == before
    assert (root / OUT).read_text() == "mine\n"


def test_a_pipeline_that_does_not_validate_is_not_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write(tmp_path, {"a/Dockerfile": "FROM mycorp/b\n", "b/Dockerfile": "FROM mycorp/a\n"})
    assert main(["init", str(root)]) == 2
    _, err = capsys.readouterr()
    assert errors(err)[0] == (f"buildorch: error: {root / OUT} not written: the pipeline made "
                              "for the repository does not validate")
    assert "dependency cycle: " in errors(err)[1]
    assert sorted(p.name for p in root.iterdir()) == ["a", "b"]  # nothing left behind


def test_dockerfiles_that_cannot_be_read_are_left_out(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    root = write(tmp_path, {"a/Dockerfile": BASE, "b/Dockerfile": "FROM\n",
                            "c/Dockerfile": "junk\n"})
    assert main(["init", str(root), "--stdout"]) == 0
    out, err = capsys.readouterr()
    assert list(yaml.safe_load(out)["images"]) == ["a"]
    assert err.splitlines()[:2] == [
        "buildorch: warning: b/Dockerfile:1: FROM requires either one or three arguments "
        "(left out)",
        "buildorch: warning: c/Dockerfile:1: unknown instruction: junk (left out)"]


NONE_FOUND = ("no Dockerfile under {root} (looked for Dockerfile, Containerfile, "
              "Dockerfile.<name> and <name>.Dockerfile)")


@pytest.mark.parametrize(("files", "message"), [
    ({}, NONE_FOUND),
    ({"a/Dockerfile": "junk\n"}, "none of the 1 Dockerfile under {root} could be read (see the "
                                 "warnings above)"),
    ({"node_modules/a/Dockerfile": BASE, "a/Dockerfile.md": BASE}, NONE_FOUND),
])
def test_nothing_to_write_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    files: dict[str, str], message: str) -> None:
    root = write(tmp_path, files)
    assert main(["init", str(root)]) == 2
    assert errors(capsys.readouterr().err) == [f"buildorch: error: {message.format(root=root)}"]
    assert not (root / OUT).exists()


def test_a_missing_folder_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err == f"buildorch: error: {tmp_path / 'nope'}: not a folder\n"


def test_init_as_a_subprocess_in_the_current_folder(tmp_path: Path) -> None:
    write(tmp_path, REPO)
    done = subprocess.run([sys.executable, "-m", "buildorch", "init"], cwd=tmp_path,
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "wrote buildorch.yaml: 5 images, 4 dependencies"
    again = subprocess.run([sys.executable, "-m", "buildorch", "init"], cwd=tmp_path,
                           capture_output=True, text=True, check=False, timeout=60)
    assert again.returncode == 2
    assert again.stderr.startswith("buildorch: error: buildorch.yaml exists")
    assert len(again.stderr.splitlines()) == 1


# --- generated repositories ----------------------------------------------------------------

FOLDERS = ["", "a", "b", "base", "api", "svc/api", "lib/api", "docker", "A_b", "x y", "c$d",
           ".hidden", "node_modules"]
FILES = ["Dockerfile", "Dockerfile.w", "w.Dockerfile", "Containerfile", "Dockerfile.md"]
FROMS = [BASE.strip(), "FROM base", "FROM mycorp/api:1", "FROM a AS b", "FROM b AS test",
         "FROM ${X}", "FROM scratch AS t", "FROM svc-api", "FROM lib/api", "FROM a AS later",
         "FROM b@sha256:" + "a" * 64, "FROM localhost:5000/busybox AS a"]
STEPS = ["ARG X=base", "RUN true", "COPY --from=base /a /a", "COPY --from=b /a /a",
         "COPY --from=0 /a /a", "RUN --mount=from=api,target=/x true", "COPY --from=later /a /a"]
JUNK = ["ARG X", "junk", "FROM", "COPY --from=$x /a /b", "FROM UPPER", "# escape=`", "\x00",
        "FROM a AS a", "FROM a AS 1x", ""]
sensible = st.tuples(st.lists(st.sampled_from(FROMS), min_size=1, max_size=3),
                     st.lists(st.sampled_from(STEPS), max_size=3)).map(
    lambda parts: "\n".join(line for pair in zip(parts[0], [*parts[1], *[""] * 3],
                                                 strict=False) for line in pair if line))
junk = st.lists(st.sampled_from([*FROMS, *STEPS, *JUNK]), max_size=6).map("\n".join)
repositories = st.dictionaries(
    st.tuples(st.sampled_from(FOLDERS), st.sampled_from(FILES)).map(
        lambda pair: f"{pair[0]}/{pair[1]}".lstrip("/")),
    st.one_of(sensible, sensible, junk), max_size=6)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=repositories)
def test_generated_repositories_end_in_a_valid_pipeline_or_exit_2(
        files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = write(Path(folder), files)
        before = sorted(p.name for p in root.iterdir())
        code = main(["init", folder, "--name", "p"])
        out, err = capsys.readouterr()
        event(f"exit {code}")
        assert all(line.startswith("buildorch: ") for line in err.splitlines()), err
        if code == 0:
            assert out.splitlines()[-1].startswith(f"wrote {root / OUT}: ")
            assert main(["validate", "-f", str(root / OUT)]) == 0, capsys.readouterr().err
        else:
            assert code == 2 and errors(err), err
            assert sorted(p.name for p in root.iterdir()) == before
        capsys.readouterr()
