#!/bin/sh
echo "api: serving on :8080"
