"""Shell-word expansion: a port of the subset of BuildKit's shell.Lex used for Dockerfiles.

BuildKit expands FROM's image argument and the defaults of global ARGs with its shell.Lex
(frontend/dockerfile/shell): variables, quotes and the escape character. `expand_word`
does the same for the forms a Dockerfile may use there, and fails (`LexError`) where
BuildKit fails, instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

DEFAULT_ESCAPE = "\\"

# Words without quotes, `$` or the escape character need no shell processing (fast path).
_NEEDS_LEX = {
    "\\": re.compile(r"[$'\"\\]"),
    "`": re.compile(r"[$'\"`]"),
}
# Characters that name a shell special parameter after `$` (always unset for us).
_SPECIAL_PARAMS = frozenset("@*#?-$!0")


class LexError(ValueError):
    """A word BuildKit's shell lexer rejects (syntax error or unsupported modifier)."""


def expand_word(word: str, env: Mapping[str, str], escape: str = DEFAULT_ESCAPE) -> str:
    """Expand `$X`, `${X}`, `${X:-w}`, `${X-w}`, `${X:+w}`, `${X+w}`, `${X:?w}`, the
    pattern forms `${X#p}`, `${X##p}`, `${X%p}`, `${X%%p}`, `${X/p/r}`, `${X//p/r}`, and
    remove quotes and escapes, as BuildKit does for FROM and global ARG values. Unset
    names expand to ''. Raises LexError on a syntax error or an unsupported modifier."""
    if not _NEEDS_LEX[escape].search(word):
        return word
    return _Lexer(word, env, escape).scan(None)


class _Lexer:
    def __init__(self, word: str, env: Mapping[str, str], escape: str) -> None:
        self.word = word
        self.env = env
        self.escape = escape
        self.pos = 0
        self.raw_escapes = False  # keep escape characters (in patterns, as BuildKit)

    def scan(self, stop: str | None, raw_escapes: bool = False) -> str:
        """Process up to `stop` (consumed) or the end of the word."""
        outer, self.raw_escapes = self.raw_escapes, raw_escapes
        try:
            return self._scan(stop)
        finally:
            self.raw_escapes = outer

    def _scan(self, stop: str | None) -> str:
        out: list[str] = []
        word = self.word
        special = _NEEDS_LEX[self.escape]
        while self.pos < len(word):
            # Copy the run of ordinary characters in one slice, not char by char.
            match = special.search(word, self.pos)
            end = match.start() if match else len(word)
            if stop is not None:
                found = word.find(stop, self.pos, end)
                if found >= 0:
                    out.append(word[self.pos : found])
                    self.pos = found + 1
                    return "".join(out)
            out.append(word[self.pos : end])
            self.pos = end
            if end < len(word):
                out.append(self._token(word[end]))
        if stop is not None:
            raise LexError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(out)

    def _token(self, ch: str) -> str:
        if ch == "$":
            return self._dollar()
        if ch == "'":
            return self._single_quoted()
        if ch == '"':
            return self._double_quoted()
        self.pos += 1
        if ch != self.escape:
            return ch
        # The escape character takes the next one literally; a trailing one vanishes.
        escaped = self.word[self.pos : self.pos + 1]
        self.pos += 1
        return ch + escaped if self.raw_escapes else escaped

    def _single_quoted(self) -> str:
        end = self.word.find("'", self.pos + 1)
        if end < 0:
            raise LexError("unexpected end of statement while looking for matching single-quote")
        text = self.word[self.pos + 1 : end]
        self.pos = end + 1
        return text

    def _double_quoted(self) -> str:
        out: list[str] = []
        word = self.word
        self.pos += 1
        while self.pos < len(word):
            ch = word[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "$":
                out.append(self._dollar())
                continue
            self.pos += 1
            # Inside double quotes the escape only escapes `"`, `$` and itself.
            if ch == self.escape:
                if self.raw_escapes:
                    out.append(ch)
                if word[self.pos : self.pos + 1] in ('"', "$", self.escape):
                    ch = word[self.pos]
                    self.pos += 1
                elif self.pos >= len(word):
                    continue
            out.append(ch)
        raise LexError("unexpected end of statement while looking for matching double-quote")

    def _dollar(self) -> str:
        self.pos += 1  # the '$'
        if self.word[self.pos : self.pos + 1] != "{":
            name = self._name()
            return self.env.get(name, "") if name else "$"
        self.pos += 1  # the '{'
        nxt = self.word[self.pos : self.pos + 1]
        if not nxt:
            raise LexError("syntax error: missing '}'")
        if nxt in "{}:":
            raise LexError("syntax error: bad substitution")
        return self._braced(self._name())

    def _braced(self, name: str) -> str:
        # shell/lex.go processDollar
        modifier = self._next_char()
        if modifier == "}":
            return self.env.get(name, "")
        if modifier == "/":
            return self._replace(name)
        null_is_unset = modifier == ":"
        if null_is_unset:
            modifier = self._next_char()
            if modifier in "#%":  # `${X:#p}` is no form (lex_test.go expects an error)
                raise LexError(f"unsupported modifier (:{modifier}) in substitution")
        elif modifier not in "-+?#%":
            raise LexError(f"unsupported modifier ({modifier}) in substitution")
        word = self._scan_to("}", raw_escapes=modifier in "#%")
        if modifier in "#%":
            greedy = word.startswith(modifier)
            pattern = word[1:] if greedy else word
            return _trim(pattern, self.env.get(name, ""), greedy, suffix=modifier == "%")
        if modifier not in "-+?":
            shown = (":" if null_is_unset else "") + modifier
            raise LexError(f"unsupported modifier ({shown}) in substitution")
        return _apply_modifier(name, modifier, word, self.env.get(name), null_is_unset)

    def _replace(self, name: str) -> str:
        """`${X/pattern/replacement}` (first match) and `${X//pattern/replacement}` (all)."""
        replace_all = self.word[self.pos : self.pos + 1] == "/"
        if replace_all:
            self.pos += 1
        if self.word.find("/", self.pos) < 0:
            raise LexError("syntax error: missing '/' in ${}")
        pattern = self.scan("/", raw_escapes=True)
        replacement = self._scan_to("}", raw_escapes=True)
        regex = _pattern_regex(pattern, greedy=True, anchored=False)
        value = self.env.get(name, "")
        return regex.sub(lambda _: replacement, value, count=0 if replace_all else 1)

    def _scan_to(self, stop: str, raw_escapes: bool) -> str:
        try:
            return self.scan(stop, raw_escapes)
        except LexError:
            if self.pos >= len(self.word):
                raise LexError("syntax error: missing '}'") from None
            raise

    def _next_char(self) -> str:
        ch = self.word[self.pos : self.pos + 1]
        if not ch:
            raise LexError("syntax error: missing '}'")
        self.pos += 1
        return ch

    def _name(self) -> str:
        word = self.word
        start = self.pos
        if start >= len(word):
            return ""
        first = word[start]
        if first.isdigit():
            end = start
            while end < len(word) and word[end].isdigit():
                end += 1
        elif first in _SPECIAL_PARAMS:
            end = start + 1
        else:
            end = start
            while end < len(word) and (word[end].isalnum() or word[end] == "_"):
                end += 1
        self.pos = end
        return word[start:end]


_REGEX_SPECIAL = frozenset("[]{}.+()|^$")


def _pattern_regex(pattern: str, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """shell/lex.go convertShellPatternToRegex: `*` (shortest, or longest when greedy), `?`,
    `\\` escapes `*`, `?` and itself (and drops before `}` or `/`); no brackets."""
    out = ["^"] if anchored else []
    i = 0
    while i < len(pattern):
        tok = pattern[i]
        i += 1
        if tok == "*":
            out.append(".*" if greedy else ".*?")
        elif tok == "?":
            out.append(".")
        elif tok == "\\":
            nxt = pattern[i : i + 1]
            if nxt in ("}", "/"):
                continue
            i += 1
            if nxt not in ("*", "?", "\\"):
                raise LexError(f"invalid pattern ({pattern}) in substitution: invalid escape "
                               f"'\\{nxt}'")
            out.append("\\" + nxt)
        else:
            out.append("\\" + tok if tok in _REGEX_SPECIAL else tok)
    return re.compile("".join(out))  # like Go regexp: `.` does not match a newline


def _reverse_pattern(pattern: str) -> str:
    """Reversed, an escape staying before the character it escapes (lex.go reversePattern)."""
    pieces: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i != len(pattern) - 1:
            pieces.append(pattern[i : i + 2])
            i += 2
        else:
            pieces.append(pattern[i])
            i += 1
    return "".join(reversed(pieces))


def _trim(pattern: str, value: str, greedy: bool, suffix: bool) -> str:
    """`${X#p}`/`${X##p}` remove the shortest/longest matching prefix; `%`/`%%` the suffix,
    found as a prefix of the reversed value (lex.go trimPrefix, trimSuffix)."""
    if suffix:
        return _trim(_reverse_pattern(pattern), value[::-1], greedy, suffix=False)[::-1]
    match = _pattern_regex(pattern, greedy, anchored=True).search(value)
    return value[match.end():] if match else value


def _apply_modifier(
    name: str, modifier: str, word: str, value: str | None, null_is_unset: bool,
) -> str:
    unset = value is None or (null_is_unset and value == "")
    if modifier == "-":
        return word if unset else value or ""
    if modifier == "+":
        return "" if unset else word
    # '?': an error when unset (or empty with ':'), worded like BuildKit's.
    if value is None:
        raise LexError(f"{name}: {word or 'is not allowed to be unset'}")
    if unset:
        raise LexError(f"{name}: {word or 'is not allowed to be empty'}")
    return value
