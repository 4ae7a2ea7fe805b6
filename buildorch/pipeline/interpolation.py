"""`${NAME}`, `${NAME:-default}` and `${env.NAME}` in pipeline string values; `${NAME.KEY}`
names a key of a matrix value that is a mapping (bake's `${item.tgt}`).

`$$` is a literal `$`. A `$` not followed by `{` is left alone, so shell snippets such as
`$HOME` in a value pass through untouched (compose files behave the same way for `$$`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from buildorch.errors import shorten

_NAME = re.compile(r"(env\.)?([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)(?::-(.*))?\Z",
                   re.DOTALL)
MAX_DEPTH = 32  # `${A:-${B:-...}}` defaults, and variables that refer to variables
MAX_LENGTH = 1 << 20  # characters of a value after expanding variables


class InterpolationError(Exception):
    """A reference that cannot be resolved; the message is user-facing."""


Lookup = Callable[[str], str | None]


def interpolate(value: str, lookup: Lookup, env: Mapping[str, str], depth: int = 0) -> str:
    """Replace every `${...}` in `value`; `lookup` resolves pipeline and built-in vars."""
    if "$" not in value:
        return value
    if depth > MAX_DEPTH:
        raise InterpolationError(f"variables nest more than {MAX_DEPTH} levels deep")
    out: list[str] = []
    length = 0
    i = 0
    while (start := value.find("$", i)) != -1:
        piece = value[i:start]
        if value.startswith("$$", start):
            piece += "$"
            i = start + 2
        elif value.startswith("${", start):
            end = _closing_brace(value, start + 2)
            piece += _resolve(value[start + 2:end], lookup, env, depth)
            i = end + 1
        else:
            piece += "$"
            i = start + 1
        length += len(piece)
        if length > MAX_LENGTH:
            raise InterpolationError(f"a value is longer than {MAX_LENGTH >> 20} MiB after "
                                     "expanding variables")
        out.append(piece)
    out.append(value[i:])
    return "".join(out)


def closing_brace(value: str, i: int) -> int | None:
    """Index of the `}` that closes the `${` before `i` (defaults may nest `${...}`, as in
    compose-go's template.go getFirstBraceClosingIndex); None when it is never closed."""
    depth = 1
    while i < len(value):
        if value.startswith("${", i):
            depth, i = depth + 1, i + 2
            continue
        if value[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _closing_brace(value: str, i: int) -> int:
    end = closing_brace(value, i)
    if end is None:
        raise InterpolationError(f"unclosed '${{' in '{shorten(value)}'")
    return end


def _resolve(expr: str, lookup: Lookup, env: Mapping[str, str], depth: int) -> str:
    parsed = _NAME.match(expr)
    if parsed is None:
        raise InterpolationError(f"bad variable reference '${{{shorten(expr)}}}'")
    is_env, name, default = parsed.groups()
    found = env.get(name) if is_env else lookup(name)
    if found is not None and found != "":
        return found
    if default is not None:
        return interpolate(default, lookup, env, depth + 1)
    if found is not None:
        return found
    where = f"environment variable '{name}'" if is_env else f"variable '{name}'"
    shown = shorten(expr)
    raise InterpolationError(f"undefined {where} in '${{{shown}}}' (use ${{{shown}:-default}})")


class VarResolver:
    """Resolves pipeline vars lazily, each at most once, detecting reference cycles.

    Precedence: `--var` over the pipeline's `vars`, over built-ins (git, PIPELINE).
    Built-ins are callables so that git is only asked when a value is used.
    """

    def __init__(
        self,
        pipeline_vars: Mapping[str, str],
        overrides: Mapping[str, str],
        builtins: Mapping[str, Callable[[], str | None]],
        env: Mapping[str, str],
    ) -> None:
        self._raw = pipeline_vars
        self._overrides = overrides
        self._builtins = builtins
        self._env = env
        self._done: dict[str, str | None] = {}
        self._active: list[str] = []

    def __call__(self, name: str) -> str | None:
        if name in self._done:
            return self._done[name]
        if name in self._active:
            chain = " -> ".join([*self._active[self._active.index(name):], name])
            raise InterpolationError(f"variables refer to each other: {shorten(chain, 200)}")
        if len(self._active) > MAX_DEPTH:
            raise InterpolationError(f"variables refer through more than {MAX_DEPTH} others")
        self._active.append(name)
        try:
            value = self._compute(name)
        finally:
            self._active.pop()
        self._done[name] = value
        return value

    def _compute(self, name: str) -> str | None:
        if name in self._overrides:
            return self._overrides[name]
        if name in self._raw:
            return interpolate(self._raw[name], self, self._env)
        builtin = self._builtins.get(name)
        return builtin() if builtin else None

    def resolved(self) -> dict[str, str | None]:
        """Every variable resolved so far, with its value: those the pipeline used (a run
        record keeps them, so that `repro` can load the pipeline with the same values)."""
        return dict(self._done)

    def expand(self, value: str) -> str:
        return interpolate(value, self, self._env)

    def expand_in(self, value: str, scope: Lookup) -> str:
        """`value` expanded where `scope` (a matrix combination's values) comes first: it
        shadows the variables, as bake's matrix values shadow its variables."""
        def lookup(name: str) -> str | None:
            found = scope(name)
            return self(name) if found is None else found
        return interpolate(value, lookup, self._env)
