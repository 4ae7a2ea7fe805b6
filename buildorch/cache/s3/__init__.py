"""S3 cache through the sync transport: a BuildKit local cache folder <-> an S3 bucket.

The transport moves an OCI layout folder (`layout`) to and from the bucket, in the
layout of `cache.keys`:

    <prefix>oci/index/<pipeline>/<image>/<scope>.json   an entry: the folder's index.json
    <prefix>oci/blobs/sha256/<hex>                      blobs, named by content, shared

`client` (where, the boto3 client, errors, the bucket check), `references` (what an
entry needs), `layout` (the local folder), `upload` (with `covered`: an export the
entry already covers), `download`; `credentials` for BuildKit's native `type=s3`.
"""
