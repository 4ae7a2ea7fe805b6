"""The client's S3 credentials, resolved with boto3's standard chain (effects).

Only used where a cache profile says `credentials: forward`: BuildKit's native S3 cache
takes credentials as attributes on the command line, since the daemon does not see
the client's environment. They are redacted wherever buildorch shows argv.
"""

from __future__ import annotations

from buildorch.backends.request import ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN
from buildorch.errors import ConfigError


def resolve_forwarded() -> dict[str, str]:
    import boto3  # only here: `buildorch --help` must not import it

    credentials = boto3.Session().get_credentials()
    if credentials is None:
        raise ConfigError("'forward', but boto3 finds no AWS credentials "
                          "(environment, ~/.aws profile, SSO or role)")
    frozen = credentials.get_frozen_credentials()
    values = {ACCESS_KEY_ID: frozen.access_key or "", SECRET_ACCESS_KEY: frozen.secret_key or ""}
    if frozen.token:
        values[SESSION_TOKEN] = frozen.token
    return values
