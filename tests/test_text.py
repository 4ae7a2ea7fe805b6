from __future__ import annotations

from buildorch.text import plural


def test_plural_counts_one_in_the_singular() -> None:
    assert plural(1, "image") == "1 image"
    assert plural(0, "image") == "0 images"
    assert plural(2, "image") == "2 images"
    assert plural(1, "dependency", "dependencies") == "1 dependency"
    assert plural(3, "dependency", "dependencies") == "3 dependencies"
