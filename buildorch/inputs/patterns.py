"""One `.dockerignore` pattern as moby/patternmatcher compiles and matches it
(patternmatcher.go: `New`, `Pattern.compile`, `Pattern.match`,
`MatchesUsingParentResults`), for Linux paths ('/'-separated, relative, clean).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from buildorch.inputs import go_glob, go_regexp, go_text

# shouldEscape is meant to escape `.+()|{}$`, but its bitmap (`escapeBytes[b%8] |= 1 << (b/8)`
# on a byte) loses every character from '@' on: `|`, `{` and `}` reach Go's regexp as they
# are, where `a|b` is an alternative and `a{2}` a repetition. BuildKit matches that way.
REGEXP_ESCAPED = ".+()$"
BOM = "\ufeff"  # text/scanner drops it as the first character of the pattern
MatchInfo = tuple[bool, ...]  # per pattern: whether it matched a walked parent directory


class PatternError(ValueError):
    """A pattern BuildKit would refuse; the message says why."""


class Kind(enum.Enum):
    EXACT = "exact"
    PREFIX = "prefix"  # "dir/**": a plain prefix
    SUFFIX = "suffix"  # "**/name": a plain suffix
    REGEXP = "regexp"


@dataclass(frozen=True)
class Pattern:
    text: str  # as cleaned, without the leading '!'
    exclusion: bool  # a '!' pattern: re-includes what it matches
    kind: Kind
    regexp: re.Pattern[str] | None

    @classmethod
    def parse(cls, raw: str) -> Pattern | None:
        """`New` for one pattern: None for a blank one."""
        text = go_text.trim_space(raw)
        if not text:
            return None
        text = go_text.clean(text)
        exclusion = text.startswith("!")
        if exclusion:
            if text == "!":
                raise PatternError('illegal exclusion pattern: "!"')
            text = text[1:]
        if not go_glob.is_valid_glob(text):
            raise PatternError("syntax error in pattern")
        kind, expression = compile_pattern(text)
        regexp = None
        if kind is Kind.REGEXP:
            try:
                regexp = re.compile(go_regexp.to_python(expression), re.ASCII)
            except (go_regexp.GoRegexpError, re.error) as exc:
                raise PatternError(f"error parsing regexp: {exc}") from None
        return cls(text, exclusion, kind, regexp)

    def matches(self, path: str) -> bool:
        if self.kind is Kind.EXACT:
            return path == self.text
        if self.kind is Kind.PREFIX:
            return path.startswith(self.text[:-2])
        if self.kind is Kind.SUFFIX:
            if self.text.startswith(BOM):  # Go cuts 2 bytes: the "**" after it stay
                return _utf8(path).endswith(_utf8(self.text)[2:])
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        assert self.regexp is not None
        return self.regexp.search(path) is not None


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def compile_pattern(text: str) -> tuple[Kind, str]:
    """`Pattern.compile`: the kind of match, and the Go expression for Kind.REGEXP."""
    chars = text.removeprefix(BOM)
    expression = "^"
    kind = Kind.EXACT
    pos = 0
    first = True
    while pos < len(chars):
        char = chars[pos]
        pos += 1
        if char == "*" and chars[pos: pos + 1] == "*":
            pos += 1
            if chars[pos: pos + 1] == "/":
                pos += 1
            if pos < len(chars):
                expression, kind = _collapse(expression) + "(.*/)?", Kind.REGEXP
            elif kind is Kind.EXACT:
                kind = Kind.PREFIX  # "**" at the end: align with .gitignore
            else:
                expression, kind = expression + ".*", Kind.REGEXP
            if first:
                kind = Kind.SUFFIX
        elif char == "*":
            expression, kind = expression + "[^/]*", Kind.REGEXP
        elif char == "?":
            expression, kind = expression + "[^/]", Kind.REGEXP
        elif char in REGEXP_ESCAPED:
            expression += "\\" + char
        elif char == "\\":
            if pos < len(chars):
                expression, kind = expression + "\\" + chars[pos], Kind.REGEXP
                pos += 1
            else:
                expression += "\\"
        elif char in "[]":
            expression, kind = expression + char, Kind.REGEXP
        else:
            expression += char
        first = False
    return kind, expression + "$" if kind is Kind.REGEXP else expression


def _collapse(expression: str) -> str:
    """`(.*/)?(.*/)?` means `(.*/)?`: one of them spares Python's backtracking matcher
    (Go's is linear) the work of trying every split."""
    return expression.removesuffix("(.*/)?")


def match_path(patterns: tuple[Pattern, ...], path: str,
               parent: MatchInfo = ()) -> tuple[bool, MatchInfo]:
    """`MatchesUsingParentResults`: whether `path` is excluded, and the per-pattern results
    its entries inherit. `parent` is that of the walked parent directory; without it (a
    top-level entry, or a path looked up on its own) parent directories are matched as
    `MatchesOrParentMatches` does. A pattern is only tried while it can change the answer
    (an exclusion once something matched, an inclusion before), so its result is not
    inherited where it was skipped."""
    matched = False
    info: list[bool] = []
    for index, pattern in enumerate(patterns):
        hit = bool(parent) and parent[index]
        if not hit:
            if pattern.exclusion != matched:
                info.append(False)
                continue
            hit = pattern.matches(path) or (not parent and _parent_matches(pattern, path))
        info.append(hit)
        if hit:
            matched = not pattern.exclusion
    return matched, tuple(info)


def _parent_matches(pattern: Pattern, path: str) -> bool:
    dirs = path.split("/")[:-1]
    return any(pattern.matches("/".join(dirs[:n])) for n in range(1, len(dirs) + 1))
