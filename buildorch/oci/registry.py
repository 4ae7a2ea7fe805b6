"""A small OCI distribution (registry v2) client: manifests, tags and blobs.

Used to publish tags at the end of a run on backends without a local image store
(the build pushed each manifest by digest; a tag is a PUT of the same manifest), to
check what a registry holds, and to administer registry caches (blob upload, HEAD,
manifest and blob DELETE). A manifest DELETE goes by digest and untags every tag that
points at it; registries refuse it (HTTP 405) unless deletes are enabled. Credentials
come from the Docker config's `auths` (basic auth, and bearer tokens obtained with it);
credential helpers are not consulted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from buildorch.errors import BuildorchError
from buildorch.oci.reference import ImageRef

MANIFEST_TYPES = ", ".join((
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
))
TIMEOUT = 30
DELETED = (200, 202)


class RegistryError(BuildorchError):
    exit_code = 1


@dataclass(frozen=True)
class Manifest:
    media_type: str
    body: bytes
    digest: str


def _scheme(host: str) -> str:
    plain = host.split(":")[0] in ("localhost", "127.0.0.1", "::1")
    return "http" if plain else "https"


def _basic_auth(host: str) -> str | None:
    folder = Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker"))
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return None
    entry = config.get("auths", {}).get(host) or config.get("auths", {}).get(f"https://{host}")
    auth = entry.get("auth") if isinstance(entry, dict) else None
    return f"Basic {auth}" if auth else None


def digest_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


class RegistryClient:
    def __init__(self, host: str) -> None:
        self.host = host
        self.base = f"{_scheme(host)}://{host}/v2/"
        self._authorization: str | None = None

    def _send(self, method: str, path: str, headers: dict[str, str],
              body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
        for attempt in range(2):
            request = urllib.request.Request(self._url(path), data=body, method=method,
                                             headers=dict(headers))
            if self._authorization:
                request.add_header("Authorization", self._authorization)
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                    return response.status, dict(response.headers), response.read()
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and attempt == 0:
                    self._authorization = self._authorize(exc.headers.get("WWW-Authenticate", ""))
                    if self._authorization:
                        continue
                return exc.code, dict(exc.headers), exc.read()
            except (urllib.error.URLError, OSError) as exc:
                raise RegistryError(f"registry {self.host} unreachable: {exc}") from None
        raise AssertionError("unreachable")

    def _url(self, path: str) -> str:
        """`path` under /v2/, or an upload Location: absolute, or absolute-path."""
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith("/"):
            return f"{_scheme(self.host)}://{self.host}{path}"
        return self.base + path

    def _authorize(self, challenge: str) -> str | None:
        basic = _basic_auth(self.host)
        if challenge.lower().startswith("basic"):
            return basic
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        if "realm" not in params:
            return None
        query = urllib.parse.urlencode({k: v for k, v in params.items() if k != "realm"})
        request = urllib.request.Request(f"{params['realm']}?{query}")
        if basic:
            request.add_header("Authorization", basic)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                token = json.loads(response.read())
        except (OSError, ValueError) as exc:
            raise RegistryError(f"registry {self.host}: cannot get a token: {exc}") from None
        value = token.get("token") or token.get("access_token")
        return f"Bearer {value}" if value else None

    def manifest(self, repository: str, reference: str) -> Manifest | None:
        status, headers, body = self._send("GET", f"{repository}/manifests/{reference}",
                                           {"Accept": MANIFEST_TYPES})
        if status == 404:
            return None
        if status != 200:
            raise RegistryError(f"{self.host}/{repository}:{reference}: HTTP {status}")
        media_type = headers.get("Content-Type", "").split(";")[0]
        return Manifest(media_type, body, headers.get("Docker-Content-Digest", ""))

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> None:
        status, _, body = self._send("PUT", f"{repository}/manifests/{tag}",
                                     {"Content-Type": manifest.media_type}, manifest.body)
        if status not in (200, 201):
            detail = body.decode(errors="replace")[:200]
            raise RegistryError(f"{self.host}/{repository}:{tag}: HTTP {status}: {detail}")

    def tags(self, repository: str) -> list[str]:
        status, _, body = self._send("GET", f"{repository}/tags/list", {})
        if status == 404:
            return []
        if status != 200:
            raise RegistryError(f"{self.host}/{repository}: listing tags: HTTP {status}")
        return list(json.loads(body).get("tags") or [])


    def blob(self, repository: str, digest: str) -> bytes | None:
        status, _, body = self._send("GET", f"{repository}/blobs/{digest}", {})
        if status == 404:
            return None
        if status != 200:
            raise RegistryError(f"{self.host}/{repository}@{digest}: blob: HTTP {status}")
        return body

    def blob_size(self, repository: str, digest: str) -> int | None:
        """HEAD a blob: its size, or None when the repository does not hold it."""
        status, headers, _ = self._send("HEAD", f"{repository}/blobs/{digest}", {})
        if status == 404:
            return None
        if status != 200:
            raise RegistryError(f"{self.host}/{repository}@{digest}: blob HEAD: HTTP {status}")
        return int(headers.get("Content-Length", "0"))

    def upload_blob(self, repository: str, data: bytes) -> str:
        """Upload `data` as one blob (monolithic: POST then PUT) unless already there."""
        digest = digest_of(data)
        if self.blob_size(repository, digest) is not None:
            return digest
        status, headers, body = self._send("POST", f"{repository}/blobs/uploads/", {}, b"")
        location = headers.get("Location", "")
        if status != 202 or not location:
            raise _failure(self.host, f"{repository}: starting an upload", status, body)
        separator = "&" if "?" in location else "?"
        target = f"{location}{separator}digest={urllib.parse.quote(digest)}"
        status, _, body = self._send("PUT", target,
                                     {"Content-Type": "application/octet-stream"}, data)
        if status != 201:
            raise _failure(self.host, f"{repository}: uploading {digest}", status, body)
        return digest

    def delete_manifest(self, repository: str, digest: str) -> bool:
        """Delete a manifest by digest (and every tag on it); False if it was not there."""
        return self._delete(repository, f"manifests/{digest}")

    def delete_blob(self, repository: str, digest: str) -> bool:
        """Unlink a blob from `repository`; False if it was not there. The registry's
        garbage-collect reclaims the storage later."""
        return self._delete(repository, f"blobs/{digest}")

    def _delete(self, repository: str, path: str) -> bool:
        status, _, body = self._send("DELETE", f"{repository}/{path}", {})
        if status in DELETED:
            return True
        if status == 404:
            return False
        what = f"{repository}/{path}: DELETE"
        if status == 405:
            what += " refused (is deletion enabled in the registry?)"
        raise _failure(self.host, what, status, body)


def _failure(host: str, what: str, status: int, body: bytes) -> RegistryError:
    detail = body.decode(errors="replace")[:200]
    return RegistryError(f"{host}/{what}: HTTP {status}: {detail}")


def tag_digest(tag: str, digest: str) -> None:
    """Point `tag` (host/repo:tag) at the manifest `digest` already in that repository."""
    ref = ImageRef.parse(tag)
    client = RegistryClient(ref.host)
    manifest = client.manifest(ref.repository, digest)
    if manifest is None:
        raise RegistryError(f"{ref.host}/{ref.repository}@{digest} is not in the registry")
    client.put_manifest(ref.repository, ref.tag or "latest", manifest)
