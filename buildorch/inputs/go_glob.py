"""The syntax check moby/patternmatcher's `New` makes with Go's `filepath.Match(p, ".")`:
a pattern Go's glob reader refuses (an unclosed `[`, an empty class, a trailing backslash)
makes BuildKit refuse the whole `.dockerignore`.

Ported from Go's path/filepath/match.go (`scanChunk`, `matchChunk`, `getEsc`) on Linux,
keeping only what decides ErrBadPattern: `Match` checks every chunk of the pattern
whatever the name, so the name "." plays no part.
"""

from __future__ import annotations


def is_valid_glob(pattern: str) -> bool:
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return True
        if not _chunk_is_valid(chunk):
            return False
    return True


def _scan_chunk(pattern: str) -> tuple[bool, str, str]:
    """Leading stars, then the text up to the next star outside a class."""
    stripped = pattern.lstrip("*")
    star = len(stripped) != len(pattern)
    in_range = False
    i = 0
    while i < len(stripped):
        char = stripped[i]
        if char == "\\":
            if i + 1 < len(stripped):
                i += 1
        elif char == "[":
            in_range = True
        elif char == "]":
            in_range = False
        elif char == "*" and not in_range:
            break
        i += 1
    return star, stripped[:i], stripped[i:]


def _chunk_is_valid(chunk: str) -> bool:
    while chunk:
        head = chunk[0]
        if head == "[":
            rest = _class_rest(chunk[1:])
            if rest is None:
                return False
            chunk = rest
        elif head == "\\":
            if len(chunk) < 2:
                return False
            chunk = chunk[2:]
        else:
            chunk = chunk[1:]
    return True


def _class_rest(chunk: str) -> str | None:
    """What follows a well-formed class body (after `[`), or None."""
    if chunk.startswith("^"):
        chunk = chunk[1:]
    ranges = 0
    while not (chunk.startswith("]") and ranges > 0):
        rest = _escaped_char_rest(chunk)
        if rest is None:
            return None
        if rest.startswith("-"):
            rest = _escaped_char_rest(rest[1:])
            if rest is None:
                return None
        chunk = rest
        ranges += 1
    return chunk[1:]


def _escaped_char_rest(chunk: str) -> str | None:
    """`getEsc`: one (possibly escaped) class character, and something must follow it."""
    if not chunk or chunk[0] in "-]":
        return None
    if chunk[0] == "\\":
        chunk = chunk[1:]
    rest = chunk[1:]
    return rest if chunk and rest else None
