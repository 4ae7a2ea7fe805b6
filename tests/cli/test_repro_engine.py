"""`buildorch repro` on the stack: a run recorded "on CI" with the registry cache exporting,
the engine's build cache wiped and the built images removed, then reproduced "on a
laptop" (another branch, no CI variables): every step comes from the cache and every
digest matches; a changed file is named and explains its image's digest; a record moved
to a checkout at another absolute path reproduces; and the reasons a digest differs
without any input changing are the true ones (seen in the images themselves)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections import defaultdict
from pathlib import Path

import pytest

from tests.git_repo import GitRepo

pytestmark = pytest.mark.engine

BASE = os.environ.get("BUILDORCH_BASE_IMAGE", "localhost:5000/busybox:latest")
REGISTRY = os.environ.get("BUILDORCH_REGISTRY", "localhost:5000")
CI_ENV = {"CI": "true", "GITHUB_REF_NAME": "ci-branch"}
LAPTOP_DROPS = ("CI", "GITHUB_REF_NAME", "GITHUB_HEAD_REF", "GITHUB_ACTIONS", "GITHUB_EVENT_NAME")

_VERTEX = re.compile(r"^#(\d+) (.*)$")
_STEP = re.compile(r"^\[(?:\S+ )?\d+/\d+\] ")
_LAYER = re.compile(r"^(?:extracting )?sha256:[0-9a-f]{64} ")
_OUTPUT = re.compile(r"^\d+\.\d+ ")


def pipeline(space: str) -> str:
    return f"""\
version: 1
name: repro
defaults: {{cache: reg}}
images:
  base:
    context: base
    tags: ["{REGISTRY}/{space}/base:dev"]
  app1:
    context: app1
    tags: ["{REGISTRY}/{space}/app1:dev"]
  app2:
    context: app2
    tags: ["{REGISTRY}/{space}/app2:dev"]
"""


def make_repo(root: Path) -> tuple[GitRepo, str]:
    """A repository on branch main with base and two images built on it."""
    space, token = f"reprotest-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    repo = GitRepo(root)
    repo.commit("init", {
        "pipeline.yaml": pipeline(space), ".gitignore": ".buildorch/\n",
        "cache-config/reg.yaml": f"type: registry\nref: {REGISTRY}/{space}/cache\nmode: max\n",
        "base/Dockerfile": f"FROM {BASE}\nRUN echo {token} > /base.txt\n",
        "app1/Dockerfile": f"FROM {REGISTRY}/{space}/base:dev\nCOPY hello.txt /hello.txt\n"
                           "RUN cat /hello.txt /base.txt > /app1.txt\n",
        "app1/hello.txt": "one\n",
        "app2/Dockerfile": f"FROM {REGISTRY}/{space}/base:dev\nRUN echo app2 > /app2.txt\n",
    })
    return repo, space


def buildorch(*args: str, cwd: Path, ci: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in LAPTOP_DROPS}
    return subprocess.run([sys.executable, "-m", "buildorch", *args, "--progress", "plain"],
                          cwd=cwd, env={**env, **(CI_ENV if ci else {})}, capture_output=True,
                          text=True, check=False, timeout=600)


def runs(root: Path) -> list[Path]:
    return sorted((root / ".buildorch" / "runs").iterdir())


def record_of(run: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((run / "record.json").read_text())  # type: ignore[no-any-return]


def wipe(space: str) -> None:
    """Nothing local serves the images: the engine's build cache pruned and the built images
    removed (the stack's busybox stays in the registry)."""
    subprocess.run(["docker", "buildx", "prune", "-af"], check=True, capture_output=True)
    tags = [f"{REGISTRY}/{space}/{name}:dev" for name in ("base", "app1", "app2")]
    subprocess.run(["docker", "image", "rm", *tags], check=False, capture_output=True)


def step_sources(log: str) -> dict[str, str]:
    """Each Dockerfile step of a build log but FROM: `cached` (CACHED, or its layers
    downloaded from the imported cache without any output of its own) or `ran`."""
    names: dict[str, str] = {}
    lines: dict[str, list[str]] = defaultdict(list)
    for line in log.splitlines():
        match = _VERTEX.match(line)
        if match is None:
            continue
        number, rest = match.groups()
        if number not in names:
            names[number] = rest
        elif rest != names[number]:
            lines[number].append(rest)
    sources = {}
    for number, name in names.items():
        if not _STEP.match(name) or " FROM " in f" {name.split('] ', 1)[1]}":
            continue
        said = lines[number]
        loaded = any(_LAYER.match(x) for x in said) and not any(_OUTPUT.match(x) for x in said)
        sources[name] = "cached" if "CACHED" in said or loaded else "ran"
    return sources


def cache_froms(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == "--cache-from"]


def build_of(root: Path, image: dict) -> dict[str, list[str]]:  # type: ignore[type-arg]
    """An image's cache imports and exports, outputs and named contexts as its record says
    it was built: its own `docker buildx build`, or its target in the bake file of the
    builder session that built it (run/chain_build)."""
    argv: list[str] = image["argv"]
    if "bake" not in argv:
        def flags(name: str) -> list[str]:
            return [argv[i + 1] for i, arg in enumerate(argv) if arg == name]
        return {"cache-from": flags("--cache-from"), "cache-to": flags("--cache-to"),
                "output": ["type=registry"] * ("--push" in argv) + flags("--output"),
                "contexts": flags("--build-context")}
    bake = json.loads((root / argv[argv.index("-f") + 1]).read_text())
    target = bake["target"][image["name"]]
    return {"cache-from": target.get("cache-from", []), "cache-to": target.get("cache-to", []),
            "output": target.get("output", []),
            "contexts": [f"{k}={v}" for k, v in target.get("contexts", {}).items()]}


def recorded_run(repo: GitRepo) -> dict:  # type: ignore[type-arg]
    built = buildorch("build", cwd=repo.root, ci=True)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr
    record = record_of(runs(repo.root)[-1])
    assert record["git"]["branch"] == "ci-branch" and record["variables"]["GIT_BRANCH"] == \
        "ci-branch"
    assert all(build_of(repo.root, i)["cache-to"] for i in record["images"].values())  # exported
    return record


def test_a_recorded_run_reproduces_from_its_cache_on_a_wiped_engine(
        engine: str, tmp_path: Path) -> None:
    repo, space = make_repo(tmp_path / "repo")
    record = recorded_run(repo)
    ran = {n: step_sources((repo.root / i["log"]).read_text())
           for n, i in record["images"].items()}
    assert all("ran" in steps.values() for steps in ran.values()), ran  # really built
    wipe(space)

    result = buildorch("repro", record["id"], cwd=repo.root)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "warning" not in result.stderr, result.stderr
    again = record_of(runs(repo.root)[-1])
    assert again["reproduces"] == record["id"] and again["outcome"] == "succeeded"
    for name, image in again["images"].items():
        recorded = record["images"][name]
        # the same cache, read-only, though this checkout is on main and not on CI
        build, recorded_build = build_of(repo.root, image), build_of(repo.root, recorded)
        assert build["cache-from"] == recorded_build["cache-from"]
        assert f"{space}/cache:{name}-ci-branch" in build["cache-from"][0]
        assert not build["cache-to"] and not any("push=true" in o or o == "type=registry"
                                                 for o in build["output"])
        steps = step_sources((repo.root / image["log"]).read_text())
        assert steps and set(steps.values()) == {"cached"}, (name, steps)  # no step ran
        assert image["cached_steps"] == image["total_steps"] == len(steps)
        assert image["digest"] == recorded["digest"]
        assert f"{name}: digest matches ({recorded['digest']})" in result.stdout
    base_contexts = build_of(repo.root, again["images"]["base"])["contexts"]
    busybox = record["images"]["base"]["base_images"][BASE]
    assert f"{BASE.rsplit(':', 1)[0]}=docker-image://{BASE}@{busybox}" in base_contexts
    assert "3 images, 3 digests match, 0 differ" in result.stdout

    # one file of app1's context changes: named before building, and its digest explained
    (repo.root / "app1" / "hello.txt").write_text("two\n")
    wipe(space)
    changed = buildorch("repro", record["id"], cwd=repo.root)
    assert changed.returncode == 0, changed.stdout[-3000:] + changed.stderr
    assert "buildorch: warning: app1: files differ from the record: app1/hello.txt\n" in \
        changed.stderr
    assert "app1: digest differs: inputs changed (app1/hello.txt)" in changed.stdout
    for name in ("base", "app2"):
        assert f"{name}: digest matches ({record['images'][name]['digest']})" in changed.stdout
    strict = buildorch("repro", record["id"], "app1", "--strict", cwd=repo.root)
    assert strict.returncode == 1 and "app1: digest differs" in strict.stdout


def test_a_record_reproduces_in_a_checkout_at_another_path(engine: str, tmp_path: Path) -> None:
    repo, space = make_repo(tmp_path / "ci" / "checkout")
    record = recorded_run(repo)
    text = (runs(repo.root)[-1] / "record.json").read_text()
    assert str(repo.root) not in text and str(tmp_path) not in text
    laptop = tmp_path / "laptop" / "somewhere" / "else"
    shutil.copytree(repo.root, laptop, symlinks=True)
    shutil.rmtree(repo.root)
    wipe(space)
    result = buildorch("repro", str(laptop / ".buildorch" / "runs" / record["id"] /
                                    "record.json"), cwd=laptop)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "3 images, 3 digests match, 0 differ" in result.stdout, result.stdout


REASONS = """\
version: 1
name: reasons
images:
  docs:
    context: docs
    tags: ["{registry}/{space}/docs:dev"]
  tool:
    context: tool
    tags: ["{registry}/{space}/tool:dev"]
"""


def test_a_digest_that_differs_with_the_same_inputs_says_what_differs(
        engine: str, tmp_path: Path) -> None:
    """Built again without cache while the recorded images are still stored: a COPY of the
    same file into an existing folder gives the same layer (a folder it made would carry the
    time: seen on the stack), so only the config's times differ; a RUN that writes random
    bytes gives a new layer."""
    space, token = f"reprotest-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    repo = GitRepo(tmp_path / "repo")
    repo.commit("init", {
        "pipeline.yaml": REASONS.format(registry=REGISTRY, space=space),
        "docs/Dockerfile": f"FROM {BASE}\nCOPY index.txt /index.txt\n",
        "docs/index.txt": f"{token}\n",
        # random bytes: a layer of the same text written within the same second (tar's
        # mtime) came out identical on a fast CI machine
        "tool/Dockerfile": f"FROM {BASE}\nRUN echo {token} > /tool.txt && "
                           "head -c 16 /dev/urandom > /random\n",
    })
    built = buildorch("build", cwd=repo.root)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr
    record = record_of(runs(repo.root)[-1])
    result = buildorch("repro", record["id"], "--set", "*.no_cache=true", cwd=repo.root)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert ("docs: digest differs: only the image config's timestamps differ (set "
            "reproducible: true)") in result.stdout, result.stdout
    assert ("tool: digest differs: 1 of 2 layers differ: 1 of 1 steps ran again rather than "
            "coming from the cache") in result.stdout, result.stdout
    subprocess.run(["docker", "image", "rm", f"{REGISTRY}/{space}/docs:dev",
                    f"{REGISTRY}/{space}/tool:dev"], check=False, capture_output=True)


def test_a_pushed_image_is_compared_from_the_registry(engine: str, tmp_path: Path) -> None:
    """CI pushed the image and the laptop never had it: the recorded image is read from the
    registry by digest (an index with buildx's provenance: its platform's manifest)."""
    space, token = f"reprotest-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    repo = GitRepo(tmp_path / "repo")
    repo.commit("init", {
        "pipeline.yaml": REASONS.format(registry=REGISTRY, space=space),
        "docs/Dockerfile": f"FROM {BASE}\nCOPY index.txt /index.txt\n",
        "docs/index.txt": f"{token}\n",
        "tool/Dockerfile": f"FROM {BASE}\nRUN echo {token} > /tool.txt\n",
    })
    built = buildorch("build", "--push", "docs", cwd=repo.root, ci=True)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr
    record = record_of(runs(repo.root)[-1])
    assert record["published"] == [f"{REGISTRY}/{space}/docs:dev"]
    subprocess.run(["docker", "image", "rm", f"{REGISTRY}/{space}/docs:dev"], check=True,
                   capture_output=True)
    result = buildorch("repro", record["id"], "--set", "docs.no_cache=true", cwd=repo.root)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert ("docs: digest differs: only the image config's timestamps differ (set "
            "reproducible: true)") in result.stdout, result.stdout
    again = record_of(runs(repo.root)[-1])
    assert again["published"] == [] and "--push" not in again["images"]["docs"]["argv"]
    subprocess.run(["docker", "image", "rm", f"{REGISTRY}/{space}/docs:dev"], check=False,
                   capture_output=True)


def test_a_reproducible_image_reproduces_without_any_cache(engine: str, tmp_path: Path) -> None:
    """`reproducible: true`, no cache, a wiped engine: every step runs again and the digest is
    still the recorded one. Its base image still is what the run resolved, so it is not
    pinned (a pin would make BuildKit rewrite the base image's layers too)."""
    space, token = f"reprotest-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    repo = GitRepo(tmp_path / "repo")
    repo.commit("init", {
        "pipeline.yaml": REASONS.format(registry=REGISTRY, space=space).replace(
            "name: reasons\n", "name: reasons\nreproducible: true\n"),
        "docs/Dockerfile": f"FROM {BASE}\nCOPY index.txt /docs/index.txt\n",
        "docs/index.txt": f"{token}\n",
        "tool/Dockerfile": f"FROM {BASE}\nRUN echo {token} > /tool.txt\n",
    })
    built = buildorch("build", cwd=repo.root)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr
    record = record_of(runs(repo.root)[-1])
    subprocess.run(["docker", "buildx", "prune", "-af"], check=True, capture_output=True)
    subprocess.run(["docker", "image", "rm", f"{REGISTRY}/{space}/docs:dev",
                    f"{REGISTRY}/{space}/tool:dev"], check=False, capture_output=True)
    result = buildorch("repro", record["id"], cwd=repo.root)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "2 images, 2 digests match, 0 differ" in result.stdout, result.stdout
    again = record_of(runs(repo.root)[-1])
    for image in again["images"].values():
        assert image["cached_steps"] == 0 and image["total_steps"] == 1  # built again
        assert not any(arg.startswith(BASE.rsplit(":", 1)[0] + "=") for arg in image["argv"])
