#!/usr/bin/env bash
# The demo `make demo` runs: starts what exists and says what it did.
set -euo pipefail
BUILD=${1:-build}
QLAB="$BUILD/bin/qlab"
echo "== quorumlab demo =="
echo "-- installed plugins ($QLAB plugins):"
"$QLAB" plugins
