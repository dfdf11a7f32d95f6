#!/usr/bin/env bash
# Brings up the local lab. Until the manager exists this is the KMS alone with a generated PKI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npx tsc -p tsconfig.build.json
exec node bin/vmcrypt.js lab up "$@"
