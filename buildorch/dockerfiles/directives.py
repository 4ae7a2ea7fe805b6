"""Parser directives: the `# syntax=` frontend and the `# escape=` character.

Only the block of directive comments at the very top of the file counts; each line is
matched with BuildKit's own regexp (parser/directives.go).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from buildorch.dockerfiles.shell_words import DEFAULT_ESCAPE

_KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
# BuildKit's parser/directives.go regexp, applied after the leading '#'.
# Go's `\s` is ASCII whitespace only: a non-breaking space does not make a directive.
_DIRECTIVE_RE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$", re.ASCII)
# At most: a shebang plus one line per known directive; any other line ends the block.
_MAX_DIRECTIVE_LINES = 1 + len(_KNOWN_DIRECTIVES)


def read_directives(text: str) -> tuple[str | None, str]:
    """(syntax frontend, escape character) from the parser directives at the top."""
    lines = text.split("\n", _MAX_DIRECTIVE_LINES)[:_MAX_DIRECTIVE_LINES]
    found = _scan_directives(lines)
    # Syntax detection skips a shebang line; the escape directive does not.
    if lines[0].startswith("#!"):
        syntax_value = _scan_directives(lines[1:]).get("syntax")
    else:
        syntax_value = found.get("syntax")
    syntax = syntax_value.split()[0] if syntax_value else None
    return syntax, found.get("escape", DEFAULT_ESCAPE)


def _scan_directives(lines: Iterable[str]) -> dict[str, str]:
    # Directives end at the first line that is not one: a blank line, an ordinary comment,
    # an unknown directive or an instruction. Duplicates are rejected by the parser.
    found: dict[str, str] = {}
    for line in lines:
        match = _DIRECTIVE_RE.match(line.lstrip())
        if match is None or match.group(1).lower() not in _KNOWN_DIRECTIVES:
            break
        found.setdefault(match.group(1).lower(), match.group(2))
    return found
