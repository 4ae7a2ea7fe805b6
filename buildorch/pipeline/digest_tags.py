"""`${INPUT_DIGEST}` and `${INPUT_DIGEST_SHORT}` in tags, as Skaffold's inputDigest tagger.

An image's input digest is known only once the plan has hashed its inputs, so loading
expands these variables to tokens that the plan fills in. They are usable in tags only:
anywhere else (an arg, a label) the value would be part of the inputs it is a digest of.
"""

from __future__ import annotations

FULL = "INPUT_DIGEST"
SHORT = "INPUT_DIGEST_SHORT"
FULL_TOKEN = "{input_digest}"
SHORT_TOKEN = "{input_digest_short}"
SHORT_LENGTH = 12  # hex characters, as a short git commit id; tags allow at most 128
TOKENS = (FULL_TOKEN, SHORT_TOKEN)
PREFIX = "{input_digest"  # what both tokens start with


def builtins() -> dict[str, str]:
    return {FULL: FULL_TOKEN, SHORT: SHORT_TOKEN}


def has_token(text: str) -> bool:
    return PREFIX in text


def fill(text: str, digest: str) -> str:
    """The tag with the image's input digest (`sha256:<hex>` or bare hex) in place."""
    hex_digest = digest.removeprefix("sha256:")
    return text.replace(FULL_TOKEN, hex_digest).replace(SHORT_TOKEN, hex_digest[:SHORT_LENGTH])


def sample(text: str) -> str:
    """The tag as it will look, for checking that it is a valid reference before the digest
    is known."""
    return fill(text, "0" * 64)
