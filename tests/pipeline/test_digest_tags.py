"""`${INPUT_DIGEST}` and `${INPUT_DIGEST_SHORT}`: tokens at load time, tags only."""

from __future__ import annotations

import pytest

from buildorch.errors import ConfigErrors
from buildorch.pipeline import digest_tags
from buildorch.pipeline.loader import LoadOptions, load_pipeline
from tests.conftest import MakeProject

HEX = "ab" * 32


def test_fill_puts_the_hex_digest_and_its_short_form_in_place() -> None:
    tag = "r/app:${INPUT_DIGEST}"
    assert digest_tags.fill("r/app:{input_digest}", "sha256:" + HEX) == f"r/app:{HEX}"
    assert digest_tags.fill("r/app:v-{input_digest_short}", HEX) == f"r/app:v-{HEX[:12]}"
    assert digest_tags.has_token("x{input_digest_short}") and not digest_tags.has_token(tag)


def test_tags_keep_tokens_that_the_plan_fills(make_project: MakeProject) -> None:
    path = make_project("""\
version: 1
name: shop
images:
  api:
    context: api
    tags: ["r/api:${INPUT_DIGEST}", "r/api:s-${INPUT_DIGEST_SHORT}"]
  web:
    context: web
    tags: ["r/api:${INPUT_DIGEST}"]
""", contexts=("api", "web"))
    pipeline = load_pipeline(path, LoadOptions(env={}))
    assert pipeline.images["api"].spec.tags == ["r/api:{input_digest}",
                                                "r/api:s-{input_digest_short}"]
    # the same template on two images is not a duplicate tag: each has its own digest
    assert pipeline.images["web"].spec.tags == ["r/api:{input_digest}"]


@pytest.mark.parametrize("field", ['args: {V: "${INPUT_DIGEST}"}',
                                   'labels: {v: "x-${INPUT_DIGEST_SHORT}"}'])
def test_elsewhere_than_tags_it_is_an_error(make_project: MakeProject, field: str) -> None:
    path = make_project(f"""\
version: 1
name: shop
images:
  api:
    context: api
    {field}
""", contexts=("api",))
    with pytest.raises(ConfigErrors) as caught:
        load_pipeline(path, LoadOptions(env={}))
    text = str(caught.value)
    assert "pipeline.yaml:6" in text and "usable in tags only" in text
    assert len(text.splitlines()) == 1


def test_an_invalid_tag_around_the_token_is_still_refused(make_project: MakeProject) -> None:
    path = make_project("""\
version: 1
name: shop
images:
  api:
    context: api
    tags: ["R/Api:${INPUT_DIGEST}"]
""", contexts=("api",))
    with pytest.raises(ConfigErrors, match="not an image reference"):
        load_pipeline(path, LoadOptions(env={}))
