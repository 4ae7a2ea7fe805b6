"""A compose value's `${VAR}` references, rewritten as the pipeline's `${env.VAR}` (pure).

docker compose reads variables from the environment (and `.env`) each time it loads the
file; so does the pipeline written here, through `${env.NAME}`, instead of freezing the
values the importing shell happened to have. compose-spec/compose-spec 12-interpolation.md
and compose-spec/compose-go template/template.go give the syntax:

- `$$` is a literal `$` in both (kept as `$$`);
- `$VAR`, `${VAR}`: the variable, empty when unset -> `${env.VAR:-}`;
- `${VAR:-default}` -> `${env.VAR:-default}`; `${VAR-default}` (default only when unset)
  becomes the same: the pipeline has only `:-`, so an empty VAR takes the default too;
- `${VAR:?err}`, `${VAR?err}` (an error when unset) -> `${env.VAR}`, which is one;
- `${VAR:+alt}`, `${VAR+alt}` have no equivalent: written as if VAR were unset, and said;
- any other `$` (`$1`, `${`, `${1}`) is compose's "Invalid template": an error here too.

Defaults, error texts and alternatives may hold references themselves (nested).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from buildorch.errors import shorten
from buildorch.pipeline.interpolation import closing_brace

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_OPERATORS = (":-", "-", ":?", "?", ":+", "+")  # longest first where they share a tail


class TemplateError(ValueError):
    """A `$` compose refuses (its InvalidTemplateError); the message is user-facing."""


class Translated(NamedTuple):
    text: str  # the value in the pipeline's syntax
    names: tuple[str, ...]  # the variables it reads, in order of appearance
    inexact: tuple[str, ...]  # references with no equivalent, as written


def translate(value: str) -> Translated:
    names: list[str] = []
    inexact: list[str] = []
    text = _translate(value, value, names, inexact)
    return Translated(text, tuple(dict.fromkeys(names)), tuple(inexact))


def _translate(value: str, whole: str, names: list[str], inexact: list[str]) -> str:
    out: list[str] = []
    i = 0
    while (start := value.find("$", i)) != -1:
        out.append(value[i:start])
        rest = value[start + 1:]
        if rest.startswith("$"):
            out.append("$$")
            i = start + 2
        elif rest.startswith("{"):
            end = _closing_brace(value, start + 2, whole)
            out.append(_braced(value[start + 2:end], whole, names, inexact))
            i = end + 1
        elif named := _NAME.match(rest):
            names.append(named.group())
            out.append(f"${{env.{named.group()}:-}}")
            i = start + 1 + named.end()
        else:
            raise TemplateError(f"invalid variable reference in {shorten(whole)!r} (write $$ "
                                "for a literal $)")
    out.append(value[i:])
    return "".join(out)


def _closing_brace(value: str, i: int, whole: str) -> int:
    end = closing_brace(value, i)
    if end is None:
        raise TemplateError(f"unclosed '${{' in {shorten(whole)!r}")
    return end


def _braced(expr: str, whole: str, names: list[str], inexact: list[str]) -> str:
    named = _NAME.match(expr)
    if named is None:
        raise TemplateError(f"invalid variable reference '${{{shorten(expr)}}}' in "
                            f"{shorten(whole)!r}")
    name, tail = named.group(), expr[named.end():]
    names.append(name)
    if not tail:
        return f"${{env.{name}:-}}"
    operator = next((op for op in _OPERATORS if tail.startswith(op)), None)
    if operator is None:
        raise TemplateError(f"invalid variable reference '${{{shorten(expr)}}}' in "
                            f"{shorten(whole)!r}")
    argument = _translate(tail[len(operator):], whole, names, inexact)
    if operator in (":-", "-"):
        return f"${{env.{name}:-{argument}}}"
    if operator in (":?", "?"):
        return f"${{env.{name}}}"
    inexact.append(f"${{{expr}}}")
    return ""
