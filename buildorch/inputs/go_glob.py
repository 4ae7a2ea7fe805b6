"""The syntax check moby/patternmatcher's `New` makes with Go's `filepath.Match(p, ".")`:
where Go's glob matcher meets a malformed piece (an unclosed `[`, an empty class, a
trailing backslash) BuildKit refuses the whole `.dockerignore`.

Ported from Go's path/filepath/match.go (`Match`, `scanChunk`, `matchChunk`, `getEsc`)
on Linux, byte for byte as Go reads a string. Match stops at the first chunk that cannot
match ".", so a malformed piece after it goes unnoticed: the engine's buildx accepts
`x*\\` and refuses `a\\` (seen on the local stack), and so does this port.
"""

from __future__ import annotations


class _BadPattern(Exception):
    pass


def is_valid_glob(pattern: str) -> bool:
    try:
        _match(pattern.encode("utf-8", "surrogatepass"), b".")
    except _BadPattern:
        return False
    return True


def _match(pattern: bytes, name: bytes) -> bool:
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return b"/" not in name  # a trailing star matches the rest, unless it has a /
        rest = _match_chunk(chunk, name)
        if rest is not None and (not rest or pattern):
            name = rest
            continue
        if not star:
            return False
        skipped = _skip_for_star(chunk, name, last=not pattern)
        if skipped is None:
            return False
        name = skipped
    return not name


def _skip_for_star(chunk: bytes, name: bytes, last: bool) -> bytes | None:
    """What follows the chunk once the star has eaten 1, 2, ... bytes (never a /)."""
    for i in range(len(name)):
        if name[i] == ord("/"):
            break
        rest = _match_chunk(chunk, name[i + 1:])
        if rest is not None and not (last and rest):
            return rest
    return None


def _scan_chunk(pattern: bytes) -> tuple[bool, bytes, bytes]:
    """Leading stars, then the text up to the next star outside a class."""
    stripped = pattern.lstrip(b"*")
    star = len(stripped) != len(pattern)
    in_range = False
    i = 0
    while i < len(stripped):
        byte = stripped[i]
        if byte == ord("\\"):
            if i + 1 < len(stripped):
                i += 1
        elif byte == ord("["):
            in_range = True
        elif byte == ord("]"):
            in_range = False
        elif byte == ord("*") and not in_range:
            break
        i += 1
    return star, stripped[:i], stripped[i:]


def _match_chunk(chunk: bytes, s: bytes) -> bytes | None:
    """What is left of `s` after `chunk` matched its start, or None. The whole chunk is
    read even after a mismatch, so that a malformed one raises _BadPattern."""
    failed = False
    while chunk:
        failed = failed or not s
        head = chunk[0]
        if head == ord("["):
            rune = 0
            if not failed:
                rune, size = _decode(s)
                s = s[size:]
            hit, chunk = _class(chunk[1:], rune)
            failed = failed or not hit
        elif head == ord("?"):
            if not failed:
                failed = s[0] == ord("/")
                s = s[_decode(s)[1]:]
            chunk = chunk[1:]
        else:
            if head == ord("\\"):
                chunk = chunk[1:]
                if not chunk:
                    raise _BadPattern
            if not failed:
                failed = chunk[0] != s[0]
                s = s[1:]
            chunk = chunk[1:]
    return None if failed else s


def _class(chunk: bytes, rune: int) -> tuple[bool, bytes]:
    """Whether `rune` is in the class whose body starts `chunk`, and what follows it."""
    negated = chunk.startswith(b"^")
    if negated:
        chunk = chunk[1:]
    hit = False
    ranges = 0
    while not (chunk.startswith(b"]") and ranges > 0):
        low, chunk = _escaped(chunk)
        high = low
        if chunk[0] == ord("-"):
            high, chunk = _escaped(chunk[1:])
        hit = hit or low <= rune <= high
        ranges += 1
    return hit != negated, chunk[1:]


def _escaped(chunk: bytes) -> tuple[int, bytes]:
    """`getEsc`: one (possibly escaped) class character; something must follow it."""
    if not chunk or chunk[0] in b"-]":
        raise _BadPattern
    if chunk[0] == ord("\\"):
        chunk = chunk[1:]
        if not chunk:
            raise _BadPattern
    rune, size = _decode(chunk)
    if rune < 0 or not chunk[size:]:
        raise _BadPattern
    return rune, chunk[size:]


def _decode(data: bytes) -> tuple[int, int]:
    """utf8.DecodeRuneInString: the first rune and its length; (-1, 1) where Go gets
    RuneError from an invalid sequence."""
    for size in (1, 2, 3, 4):
        try:
            text = data[:size].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return (ord(text), size) if len(text) == 1 else (-1, 1)
    return -1, 1
