"""Text pieces for what buildorch prints: sizes, ages, counted nouns and aligned tables
(`cache ls|stats|prune`, the end-of-run summary)."""

from __future__ import annotations

from collections.abc import Sequence


def human_size(size: int) -> str:
    """`512 B`, `1.5 KiB`, `3.2 MiB`, `1.0 GiB` (GiB is the largest unit)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_age(age_days: float | None) -> str:
    """Whole hours under a day (`2h`), days with one decimal above (`10.0d`); `unknown`
    for None."""
    if age_days is None:
        return "unknown"
    return f"{age_days * 24:.0f}h" if age_days < 1 else f"{age_days:.1f}d"


def plural(count: int, one: str, many: str | None = None) -> str:
    """`1 image`, `2 images`; `1 entry`, `2 entries` (`many` defaults to `one` + s)."""
    return f"{count} {one if count == 1 else (many if many is not None else one + 's')}"


def table(rows: Sequence[Sequence[str]]) -> str:
    """Rows (a header is just the first one) in left-aligned columns two spaces apart,
    without trailing blanks; every row has as many cells as the first."""
    if not rows:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                     .rstrip() for row in rows)
