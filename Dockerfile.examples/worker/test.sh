#!/bin/sh
set -e
out=$(sh ./worker.sh)
[ "$out" = "worker: waiting for jobs" ] && echo "worker tests passed"
