#!/bin/sh
set -e
out=$(sh ./app.sh)
[ "$out" = "api: serving on :8080" ] && echo "api tests passed"
