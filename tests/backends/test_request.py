"""Typed cache and output specs: parsed and rendered as BuildKit reads them, credentials
redacted on the spec itself."""

from __future__ import annotations

import csv

import pytest

from buildorch.backends.flags import secret_spec, spec_text
from buildorch.backends.request import REDACTED, AttrSpec, BuildRequest, SecretRef


def test_a_spec_renders_back_to_what_it_was_parsed_from() -> None:
    for text in ("type=registry,ref=r/cache:api,mode=max", "type=inline",
                 'type=image,"name=r/a:1,r/a:2",push=true'):
        assert spec_text(AttrSpec.parse(text)) == text
    spec = AttrSpec.parse("type=registry,ref=r/c:x,mode=max")
    assert (spec.type, spec.get("ref"), spec.get("nope")) == ("registry", "r/c:x", None)


def test_a_value_with_a_comma_or_quote_is_one_csv_field() -> None:
    spec = AttrSpec("local", (("dest", 'out,"x"'),))
    assert next(csv.reader([spec_text(spec)])) == ["type=local", 'dest=out,"x"']
    assert next(csv.reader([secret_spec(SecretRef("a,b", src="/p")) ])) == ["id=a,b", "src=/p"]


def test_credential_attributes_are_redacted_on_the_spec() -> None:
    spec = AttrSpec("s3", (("bucket", "b"), ("access_key_id", "AKIA1"),
                           ("secret_access_key", "s/k"), ("session_token", "t0k"),
                           ("region", "r")))
    assert spec.secret_values() == ("AKIA1", "s/k", "t0k")
    assert spec_text(spec.redacted()) == (
        f"type=s3,bucket=b,access_key_id={REDACTED},secret_access_key={REDACTED},"
        f"session_token={REDACTED},region=r")
    plain = AttrSpec("registry", (("ref", "r/c:x"),))
    assert plain.redacted() is plain and plain.secret_values() == ()
    request = BuildRequest(name="a", context=".", dockerfile="Dockerfile", cache_to=(spec,),
                           cache_from=(plain,))
    assert request.secret_values() == ("AKIA1", "s/k", "t0k")
    assert request.redacted().cache_to == (spec.redacted(),)
    assert request.redacted().cache_from == (plain,)


def test_build_args_and_labels_named_like_a_credential_attribute_are_redacted() -> None:
    request = BuildRequest(name="a", context=".", dockerfile="Dockerfile",
                           args=(("session_token", "tok-9"), ("VERSION", "1")),
                           labels=(("access_key_id", "AKIA2"),))
    assert request.secret_values() == ("tok-9", "AKIA2")
    shown = request.redacted()
    assert shown.args == (("session_token", REDACTED), ("VERSION", "1"))
    assert shown.labels == (("access_key_id", REDACTED),)


def test_a_spec_field_without_a_value_is_refused() -> None:
    for text in ("type=local,dest", "dest=x", ""):
        try:
            AttrSpec.parse(text)
        except ValueError:
            continue
        raise AssertionError(f"{text!r} parsed")


@pytest.mark.parametrize(("url", "secret", "shown"), [
    ("https://x-access-token:ghs_abc123@github.com/o/r.git#main:app", "ghs_abc123",
     "https://x-access-token:***@github.com/o/r.git#main:app"),
    ("https://ghp_token456@github.com/o/r.git", "ghp_token456", "https://***@github.com/o/r.git"),
    ("ssh://git@github.com/o/r.git", None, "ssh://git@github.com/o/r.git"),
    ("git@github.com:o/r.git", None, "git@github.com:o/r.git"),
    ("https://github.com/o/r.git#a@b", None, "https://github.com/o/r.git#a@b"),
])
def test_credentials_in_url_contexts_are_redacted(url: str, secret: str | None,
                                                  shown: str) -> None:
    request = BuildRequest(name="a", context=url, dockerfile="Dockerfile",
                           named_contexts=(("lib", url),))
    assert request.secret_values() == ((secret, secret) if secret else ())
    redacted = request.redacted()
    assert redacted.context == shown and redacted.named_contexts == (("lib", shown),)
