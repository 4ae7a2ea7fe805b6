"""The Go regular expressions moby/patternmatcher builds from `.dockerignore` patterns,
rewritten for Python's `re`, so that a pattern means here what it means to BuildKit.

patternmatcher.go (`Pattern.compile`) turns `*`, `**` and `?` into `[^/]*`, `(.*/)?`,
`.*` and `[^/]`, escapes `.+()$` (it means to escape `|{}` too, see
patterns.REGEXP_ESCAPED), and passes `[`, `]`, `^`, `|`, `{`, `}` and every `\\x`
escape through to Go's regexp/syntax (Perl flags: `^`/`$` are the ends of the text,
classes may match a newline). The two dialects part on those pass-through pieces: POSIX
classes inside brackets (`[[:digit:]]`), ASCII-only `\\d \\s \\w` (Go's `\\s` has no
`\\v`), `\\z`, octal and `\\xHH` escapes, which `{...}` are repetitions (no leading
zeros, at most 1000), what a repetition may follow, and which escapes are errors. Go's
regexp/syntax/parse.go (`parseClass`, `parseNamedClass`, `parseEscape`, `parseRepeat`,
`repeat`, perl_groups.go) is followed for each; `\\pN` classes and `\\Q...\\E` are
refused as unsupported (BuildKit takes them).
"""

from __future__ import annotations

import enum
import re

MAX_RUNE = 0x10FFFF
Ranges = tuple[tuple[int, int], ...]


class GoRegexpError(ValueError):
    """Go's regexp would refuse this expression (or buildorch cannot follow it)."""


def _r(*pairs: str) -> Ranges:
    return tuple((ord(p[0]), ord(p[-1])) for p in pairs)


POSIX_CLASSES: dict[str, Ranges] = {
    "alnum": _r("09", "AZ", "az"), "alpha": _r("AZ", "az"), "ascii": ((0, 0x7F),),
    "blank": _r("\t", " "), "cntrl": ((0, 0x1F), (0x7F, 0x7F)), "digit": _r("09"),
    "graph": _r("!~"), "lower": _r("az"), "print": _r(" ~"),
    "punct": _r("!/", ":@", "[`", "{~"), "space": _r("\t\r", " "), "upper": _r("AZ"),
    "word": _r("09", "AZ", "az", "__"), "xdigit": _r("09", "AF", "af"),
}
PERL_CLASSES: dict[str, Ranges] = {
    "d": _r("09"), "s": _r("\t\n", "\f\r", " "), "w": _r("09", "AZ", "az", "__"),
}
SIMPLE_ESCAPES = {"a": "\a", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
# empty-width, in a group so that Python lets a repetition apply to them as Go does
OUTSIDE_ONLY = {"A": r"(?:\A)", "b": r"(?:\b)", "B": r"(?:\B)", "z": r"(?:\Z)"}
ANCHORS = {"^": r"(?:\A)", "$": r"(?:\Z)"}  # Go's Perl flags: the ends of the text
REPEAT = re.compile(r"\{([0-9]+)(?:(,)([0-9]*))?\}")
MAX_REPEAT = 1000


class _Last(enum.Enum):
    """What the piece before a repetition is: Go refuses `{n}` after nothing (the start,
    `|`, `(`) and after another repetition."""

    NOTHING = "nothing"
    ATOM = "atom"
    REPETITION = "repetition"


def to_python(expression: str) -> str:
    """The Python spelling of a Go expression built by patternmatcher; compile it with
    re.ASCII (for \\b and \\B)."""
    out: list[str] = []
    last = _Last.NOTHING
    i = 0
    while i < len(expression):
        piece, end, kind = _piece(expression, i)
        if kind is _Last.REPETITION and last is not _Last.ATOM:
            raise GoRegexpError("missing argument to repetition operator"
                                if last is _Last.NOTHING else
                                "invalid nested repetition operator")
        out.append(piece)
        i, last = end, kind
    return "".join(out)


def _piece(expression: str, i: int) -> tuple[str, int, _Last]:
    char = expression[i]
    if char == "{":
        repeat = _repeat(expression, i)
        if repeat is not None:
            return repeat[0], repeat[1], _Last.REPETITION
    if char == "\\":
        piece, end = _escape_outside(expression, i)
        return piece, end, _Last.ATOM
    if char == "[":
        piece, end = _bracket(expression, i)
        return piece, end, _Last.ATOM
    if char in "*?":  # written by patternmatcher after an atom: [^/]*, .*, (.*/)?
        return char, i + 1, _Last.REPETITION
    if char in "|(":
        return "(?:" if char == "(" else "|", i + 1, _Last.NOTHING
    return _plain(char), i + 1, _Last.ATOM


def _repeat(expression: str, i: int) -> tuple[str, int] | None:
    """`parseRepeat`: `{n}`, `{n,}` or `{n,m}` (no leading zeros), else None (a plain `{`).
    Counts over 1000 are refused."""
    found = REPEAT.match(expression, i)
    if found is None:
        return None
    low, comma, high = found.groups()
    if any(len(n) > 1 and n.startswith("0") for n in (low, high or "")):
        return None
    least = int(low) if len(low) <= 8 else -1
    most = least if not comma else -1 if not high else int(high) if len(high) <= 8 else -2
    if not 0 <= least <= MAX_REPEAT or most > MAX_REPEAT or most == -2 or 0 <= most < least:
        raise GoRegexpError(f"invalid repeat count: {found.group()}")
    text = f"{{{least}}}" if most == least else f"{{{least},}}" if most < 0 else (
        f"{{{least},{most}}}")
    return text, found.end()


def _plain(char: str) -> str:
    if char in ANCHORS:
        return ANCHORS[char]
    if char in ".)":  # written by patternmatcher: (.*/)? and .*
        return char
    return _literal(char)


def _literal(char: str) -> str:
    return char if char.isascii() and (char.isalnum() or char == "_") else f"\\U{ord(char):08x}"


def _escape_outside(expression: str, i: int) -> tuple[str, int]:
    name = expression[i + 1: i + 2]
    if name in OUTSIDE_ONLY:
        return OUTSIDE_ONLY[name], i + 2
    if name in ("p", "P", "Q"):
        raise GoRegexpError(f"buildorch does not support \\{name} in patterns")
    if name == "C":
        raise GoRegexpError("invalid escape sequence: \\C")
    perl = _perl_class(name)
    if perl is not None:
        return f"[{_class_body(perl)}]", i + 2
    char, end = _escape(expression, i)
    return _literal(char), end


def _perl_class(name: str) -> Ranges | None:
    if name.lower() not in PERL_CLASSES or len(name) != 1:
        return None
    ranges = PERL_CLASSES[name.lower()]
    return complement(ranges) if name.isupper() else ranges


def _escape(expression: str, i: int) -> tuple[str, int]:
    """`parseEscape`: the character an escape at `i` stands for, and where it ends."""
    if i + 1 >= len(expression):
        raise GoRegexpError("trailing backslash at end of expression")
    char, rest = expression[i + 1], i + 2
    if char.isascii() and not char.isalnum():
        return char, rest
    if char in "01234567":
        return _octal(expression, i + 1)
    if char == "x":
        digits = expression[rest: rest + 2]
        if len(digits) == 2 and all(d in "0123456789abcdefABCDEF" for d in digits):
            return chr(int(digits, 16)), rest + 2
    if char in SIMPLE_ESCAPES:
        return SIMPLE_ESCAPES[char], rest
    raise GoRegexpError(f"invalid escape sequence: \\{char}")


def _octal(expression: str, start: int) -> tuple[str, int]:
    """`\\0` takes up to two more octal digits; `\\1`-`\\7` need at least one (a lone
    digit would be a back-reference, which Go refuses)."""
    end = start + 1
    while end < len(expression) and end < start + 3 and expression[end] in "01234567":
        end += 1
    if expression[start] != "0" and end == start + 1:
        raise GoRegexpError(f"invalid escape sequence: \\{expression[start]}")
    return chr(int(expression[start:end], 8)), end


def _bracket(expression: str, i: int) -> tuple[str, int]:
    """`parseClass`: a bracket expression starting at `i`, as a Python class."""
    j = i + 1
    negated = expression.startswith("^", j)
    j += 1 if negated else 0
    ranges: list[tuple[int, int]] = []
    first = True
    while True:
        if j >= len(expression):
            raise GoRegexpError("missing closing ]")
        if expression[j] == "]" and not first:
            break
        first = False
        found, j = _class_item(expression, j)
        ranges.extend(found)
    body = _class_body(tuple(ranges))
    return f"[{'^' if negated else ''}{body}]", j + 1


def _class_item(expression: str, j: int) -> tuple[Ranges, int]:
    if expression.startswith("[:", j) and len(expression) - j > 2:
        end = expression.find(":]", j + 2)
        if end >= 0:
            return _posix_class(expression[j + 2: end]), end + 2
    name = expression[j + 1: j + 2] if expression[j] == "\\" else ""
    if name in ("p", "P"):
        raise GoRegexpError(f"buildorch does not support \\{name} in patterns")
    perl = _perl_class(name)
    if perl is not None:
        return perl, j + 2
    low, j = _class_char(expression, j)
    high = low
    if expression.startswith("-", j) and j + 1 < len(expression) and expression[j + 1] != "]":
        high, j = _class_char(expression, j + 1)
        if high < low:
            raise GoRegexpError("invalid character class range")
    return ((ord(low), ord(high)),), j


def _posix_class(name: str) -> Ranges:
    ranges = POSIX_CLASSES.get(name.removeprefix("^"))
    if ranges is None:
        raise GoRegexpError(f"invalid character class range: [:{name}:]")
    return complement(ranges) if name.startswith("^") else ranges


def _class_char(expression: str, j: int) -> tuple[str, int]:
    if j >= len(expression):
        raise GoRegexpError("missing closing ]")
    if expression[j] == "\\":
        return _escape(expression, j)
    return expression[j], j + 1


def _class_body(ranges: Ranges) -> str:
    return "".join(_literal(chr(low)) if low == high
                   else f"{_literal(chr(low))}-{_literal(chr(high))}" for low, high in ranges)


def complement(ranges: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    start = 0
    for low, high in sorted(ranges):
        if low > start:
            out.append((start, low - 1))
        start = max(start, high + 1)
    if start <= MAX_RUNE:
        out.append((start, MAX_RUNE))
    return tuple(out)
