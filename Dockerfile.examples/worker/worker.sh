#!/bin/sh
echo "worker: waiting for jobs"
