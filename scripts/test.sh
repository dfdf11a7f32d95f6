#!/usr/bin/env bash
# The whole suite: dependencies, type-check (src + test + benchmark), build, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "== type-check" >&2
npx tsc -p tsconfig.json --noEmit
echo "== build" >&2
npx tsc -p tsconfig.build.json
echo "== tests" >&2
npx vitest run "$@"
