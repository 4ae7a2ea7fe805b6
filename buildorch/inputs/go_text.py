"""Go's `strings.TrimSpace` and `path/filepath.Clean` (on Linux), as the `.dockerignore`
reader and pattern compiler apply them (moby/patternmatcher ignorefile/ignorefile.go,
patternmatcher.go `New`): Python's own `str.strip` and `posixpath.normpath` differ."""

from __future__ import annotations

# unicode.IsSpace: Latin-1's \t \n \v \f \r, space, U+0085, U+00A0, then the White_Space
# property; Python's str.strip() also strips U+001C-U+001F, which Go keeps.
GO_SPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
            "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def trim_space(text: str) -> str:
    return text.strip(GO_SPACE)


def clean(path: str) -> str:
    """The shortest path naming the same file by lexical processing: `//` and `.` dropped,
    `x/..` removed, `..` at the start of a rooted path dropped, no trailing `/`; "." for
    an empty result. Unlike posixpath.normpath, a leading `//` becomes `/`."""
    rooted = path.startswith("/")
    parts: list[str] = []
    for element in path.split("/"):
        if element in ("", "."):
            continue
        if element != "..":
            parts.append(element)
        elif parts and parts[-1] != "..":
            parts.pop()
        elif not rooted:
            parts.append("..")
    joined = "/".join(parts)
    if rooted:
        return "/" + joined
    return joined or "."
