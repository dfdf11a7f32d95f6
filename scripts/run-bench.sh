#!/usr/bin/env bash
# npm run bench:<name> → benchmark/<name>.ts, after making sure dependencies are there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
name="$1"; shift
exec node --import tsx "benchmark/$name.ts" "$@"
