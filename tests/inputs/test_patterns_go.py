"""buildorch's pattern port against moby/patternmatcher itself: the Go oracle in
tests/inputs/go_oracle/ (built with Debian's golang-go and golang-github-moby-patternmatcher-dev,
v0.5.0, whose matching code is that of today's upstream) answers thousands of generated
cases, and buildorch must refuse exactly the pattern lists Go refuses and match every path
as Go does, walked (MatchesUsingParentResults down the folders) and pattern by pattern.

Skipped where Go or the package is absent (`apt-get install golang-go
golang-github-moby-patternmatcher-dev`). More cases:
    BUILDORCH_FUZZ_EXAMPLES=50000 .venv/bin/pytest tests/inputs/test_patterns_go.py
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pytest

from buildorch import proc
from buildorch.errors import ConfigError
from buildorch.inputs import go_text
from buildorch.inputs.dockerignore import IgnoreMatcher
from buildorch.inputs.patterns import MatchInfo

GOPATH = Path("/usr/share/gocode")
ORACLE = Path(__file__).parent / "go_oracle" / "main.go"
PIECES = ["a", "b", "*", "**", "?", "/", ".", "..", "!", "[", "]", "^", "-", "\\", ":",
          "[:alpha:]", "[:^digit:]", "[a-c]", "[^b]", "[!a]", "\\d", "\\s", "\\W", "\\x41",
          "\\101", "\\a", "\\*", "\\[", "\\\\", "\\b", "\\z", "é", " ", "{", "$", "(", "|",
          "+", "\t", "\ufeff", "A", "1", "_", "\n"]
PATH_CHARS = "ab.*?[]\\é -^$A1_:\a\n"


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("go") is None or not (GOPATH / "src/github.com/moby/patternmatcher").is_dir():
        pytest.skip("needs golang-go and golang-github-moby-patternmatcher-dev (Debian)")
    folder = tmp_path_factory.mktemp("oracle")
    shutil.copy(ORACLE, folder / "main.go")
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": str(GOPATH),
           "GOCACHE": str(folder / "cache"), "GOFLAGS": ""}
    proc.run(["go", "build", "-o", "oracle", "."], cwd=folder, env=env, timeout=300)
    return folder / "oracle"


def generated(rng: random.Random) -> dict[str, list[str]]:
    patterns = ["".join(rng.choices(PIECES, k=rng.randint(0, 7)))
                for _ in range(rng.randint(1, 4))]
    paths = []
    for _ in range(rng.randint(1, 6)):
        segments = ["".join(rng.choices(PATH_CHARS, k=rng.randint(1, 4)))
                    for _ in range(rng.randint(1, 4))]
        paths.append("/".join(s for s in segments if s not in (".", "..")) or "a")
    return {"patterns": patterns, "paths": paths}


def walked(matcher: IgnoreMatcher, path: str) -> bool:
    info: MatchInfo = ()
    parts = path.split("/")
    matched = False
    for depth in range(1, len(parts) + 1):
        matched, info = matcher.match("/".join(parts[:depth]), info)
    return matched


def test_buildorch_matches_as_patternmatcher_does(oracle: Path) -> None:
    rng = random.Random(int(os.environ.get("BUILDORCH_FUZZ_SEED", "11")))
    cases = [generated(rng) for _ in range(int(os.environ.get("BUILDORCH_FUZZ_EXAMPLES",
                                                             "4000")))]
    answer = proc.run([str(oracle)], stdin="".join(json.dumps(c) + "\n" for c in cases),
                      timeout=300).output
    wrong: list[str] = []
    refused = unverifiable = 0
    for case, line in zip(cases, answer.splitlines(), strict=True):
        go = json.loads(line)
        go_refuses = go["new_error"] or go["compile_error"]
        try:
            matcher = IgnoreMatcher.of(case["patterns"])
        except ConfigError as exc:
            refused += 1
            if not go_refuses:
                # buildorch compiles every pattern at once; the oracle only those it can
                # rebuild from their text and those the walk tried
                if _all_rebuildable(case["patterns"]):
                    wrong.append(f"{case}: buildorch refuses ({exc}), Go does not")
                unverifiable += 1
            continue
        if go_refuses:
            wrong.append(f"{case}: Go refuses ({go}), buildorch does not")
            continue
        for path, go_walked, go_single in zip(case["paths"], go["walked"], go["single"],
                                              strict=True):
            ours = [p.matches(path) if hit is not None else None
                    for p, hit in zip(matcher.patterns, go_single, strict=True)]
            if walked(matcher, path) != go_walked or ours != go_single:
                wrong.append(f"{case} {path!r}: buildorch {walked(matcher, path)} {ours}, "
                             f"Go {go_walked} {go_single}")
    assert not wrong, f"{len(wrong)} of {len(cases)} differ:\n" + "\n".join(wrong[:20])
    assert 0 < refused < len(cases)  # the generator reaches both ends
    assert unverifiable < len(cases) // 50


def _all_rebuildable(patterns: list[str]) -> bool:
    """Whether every pattern's cleaned text (without one '!') is one New gives back."""
    texts = [go_text.clean(go_text.trim_space(p)) for p in patterns if go_text.trim_space(p)]
    texts = [t[1:] if t.startswith("!") else t for t in texts]
    return all(not t.startswith("!") and go_text.clean(go_text.trim_space(t)) == t
               for t in texts)
