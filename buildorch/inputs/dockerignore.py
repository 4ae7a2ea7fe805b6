"""`.dockerignore`: reading it, finding the one a build uses, and deciding which context
paths BuildKit's context transfer leaves out.

- Reading: moby/patternmatcher ignorefile/ignorefile.go (`ReadAll`).
- Which file: moby/buildkit frontend/dockerui/config.go (`ReadEntrypoint`,
  `dockerIgnorePatterns`): `<Dockerfile name>.dockerignore` beside the Dockerfile, if
  there is one (even empty), else `.dockerignore` at the context's root.
- Matching: tonistiigi/fsutil filter.go (`filterFS.Walk`), which the client's context
  transfer (llb.Local with ExcludePatterns) runs: each walked directory hands its
  per-pattern results to its entries (patterns.match_path), an excluded directory is
  still walked while a `!` pattern may re-include something inside it, and is then sent
  as the parent of what is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from buildorch.errors import ConfigError, shorten
from buildorch.inputs import go_text
from buildorch.inputs.patterns import MatchInfo, Pattern, PatternError, match_path
from buildorch.localpaths import is_file

IGNORE_FILE = ".dockerignore"
DEFAULT_DOCKERFILE = "Dockerfile"
MAX_LINE_BYTES = 64 * 1024 - 1  # bufio.Scanner's token limit (MaxScanTokenSize), newline aside
MAX_FILE_BYTES = 4 << 20
GLOB_CHARS = "*[]?^\\"  # fsutil's patternChars: an exception holding one may match anywhere


def parse_ignore(text: str, display: str = IGNORE_FILE) -> tuple[str, ...]:
    """The patterns, as `ReadAll` returns them: comment and blank lines dropped, each
    trimmed and cleaned, a leading `/` dropped (also after `!`)."""
    return tuple(pattern for _, pattern in _numbered_patterns(text, display))


def _numbered_patterns(text: str, display: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for number, raw in enumerate(_scanned_lines(text), start=1):
        if len(raw.encode("utf-8", "surrogatepass")) > MAX_LINE_BYTES:
            raise ConfigError("line too long (over 64 KiB): BuildKit refuses the file",
                              file=display, line=number)
        line = raw.removesuffix("\r")
        if number == 1:
            line = line.removeprefix("\ufeff")
        if line.startswith("#"):
            continue
        pattern = go_text.trim_space(line)
        if pattern:
            found.append((number, _normalised(pattern)))
    return found


def _scanned_lines(text: str) -> list[str]:
    """bufio.ScanLines' tokens with their \r: split at \n, no empty last line."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _normalised(pattern: str) -> str:
    invert = pattern.startswith("!")
    if invert:
        pattern = go_text.trim_space(pattern[1:])
    if pattern:
        pattern = go_text.clean(pattern)
        if len(pattern) > 1 and pattern.startswith("/"):
            pattern = pattern[1:]
    return "!" + pattern if invert else pattern


def read_ignore(path: Path, display: str) -> tuple[str, ...]:
    """The patterns of the ignore file at `path` (`display` names it in errors). A file
    that cannot be read or decoded, or a pattern BuildKit would refuse, is a ConfigError
    naming the file (and line)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read {IGNORE_FILE} file: {exc.strerror or exc}",
                          file=display) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"larger than {MAX_FILE_BYTES >> 20} MiB", file=display)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", file=display,
                          line=data[: exc.start].count(b"\n") + 1) from None
    numbered = _numbered_patterns(text, display)
    for number, pattern in numbered:
        try:
            Pattern.parse(pattern)
        except PatternError as exc:
            raise ConfigError(f"{exc} (BuildKit refuses it): {shorten(pattern)}",
                              file=display, line=number) from None
    return tuple(pattern for _, pattern in numbered)


def ignore_file_for(context_dir: Path, dockerfile: Path | None) -> Path | None:
    """The ignore file a build of `dockerfile` (default: the context's Dockerfile) in
    `context_dir` uses: `<Dockerfile name>.dockerignore` beside the Dockerfile wins over
    the context's `.dockerignore` (BuildKit's dockerui reads `<filename>.dockerignore` from
    the Dockerfile's folder first); None where there is neither."""
    dockerfile = dockerfile if dockerfile is not None else context_dir / DEFAULT_DOCKERFILE
    beside = dockerfile.with_name(dockerfile.name + IGNORE_FILE)
    if is_file(beside):
        return beside
    in_context = context_dir / IGNORE_FILE
    return in_context if is_file(in_context) else None


def ignore_file_in_effect(folder: Path, dockerfile: Path | None) -> Path | None:
    """The ignore file BuildKit applies to `folder` sent for a build of `dockerfile`; with
    no Dockerfile file (a named context, a context built with an inline Dockerfile) only
    the folder's `.dockerignore` (dockerui namedcontext.go reads DefaultDockerignoreName)."""
    if dockerfile is not None:
        return ignore_file_for(folder, dockerfile)
    in_folder = folder / IGNORE_FILE
    return in_folder if is_file(in_folder) else None


@dataclass(frozen=True)
class IgnoreMatcher:
    """The compiled patterns of one ignore file, and the walker's rules for them."""

    patterns: tuple[Pattern, ...]
    has_exceptions: bool  # a '!' pattern is present
    prefix_exceptions_only: bool  # no exception holds a glob character (before /** or /*)

    @classmethod
    def of(cls, patterns: Iterable[str], source: str = IGNORE_FILE) -> IgnoreMatcher:
        """Compile `patterns` (as parse_ignore returns them); a pattern BuildKit would
        refuse is a ConfigError naming `source`."""
        compiled: list[Pattern] = []
        for raw in patterns:
            try:
                pattern = Pattern.parse(raw)
            except PatternError as exc:
                raise ConfigError(f"{exc} (BuildKit refuses it): {shorten(raw)}",
                                  file=source) from None
            if pattern is not None:
                compiled.append(pattern)
        exceptions = [p for p in compiled if p.exclusion]
        return cls(tuple(compiled), bool(exceptions),
                   not any(c in _without_trailing_glob(p.text) for p in exceptions
                           for c in GLOB_CHARS))

    def match(self, rel_path: str, parent: MatchInfo = ()) -> tuple[bool, MatchInfo]:
        """Whether the walker leaves `rel_path` out on its own account, given the result
        its walked parent directory handed down (none for a top-level entry)."""
        return match_path(self.patterns, rel_path, parent)

    def walks_into(self, rel_dir: str) -> bool:
        """Whether the walker looks inside an excluded directory: only while some `!`
        pattern may re-include something in it."""
        if not self.prefix_exceptions_only:
            return True
        inside = rel_dir + "/"
        return any((_without_trailing_glob(p.text) + "/").startswith(inside)
                   for p in self.patterns if p.exclusion)

    def excluded(self, rel_path: str, is_dir: bool) -> bool:
        """Whether the context leaves out `rel_path` (a clean relative '/'-separated path,
        as the walker sees it), whether or not it exists. For a file or link: it is not
        sent. For a directory: neither it nor anything inside it is sent (an excluded
        directory that the walker looks into is sent when an exception re-includes
        something inside it, which only the tree can tell: False then)."""
        if rel_path in ("", "."):
            return False
        parts = rel_path.split("/")
        info: MatchInfo = ()
        for depth in range(1, len(parts)):
            ancestor = "/".join(parts[:depth])
            ancestor_excluded, info = self.match(ancestor, info)
            if ancestor_excluded and not self.walks_into(ancestor):
                return True
        own, _ = self.match(rel_path, info)
        return own and not (is_dir and self.walks_into(rel_path))


def _without_trailing_glob(text: str) -> str:
    """fsutil's patternWithoutTrailingGlob."""
    return text.removesuffix("/**").removesuffix("/*")
