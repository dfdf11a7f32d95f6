#!/usr/bin/env bash
# `npm start`: installs what is missing, builds, then brings the lab up in ./lab (KMS, manager,
# two host agents, set up through the manager's API). Extra arguments go to `vmcrypt lab up`:
#   npm start -- --kms-cluster --managers 2      npm start -- --dir /tmp/lab --detach
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh

dir_given=no
for a in "$@"; do
  case "$a" in --dir|--dir=*) dir_given=yes ;; esac
done
args=(lab up "$@")
[ "$dir_given" = yes ] || args+=(--dir ./lab)

# Run the compiled CLI; when the build fails (a checkout in the middle of a change), run the
# sources through tsx rather than a stale dist/.
if npx tsc -p tsconfig.build.json; then
  exec node bin/vmcrypt.js "${args[@]}"
fi
echo "vmcrypt: build failed; running the TypeScript sources through tsx" >&2
exec node --import tsx src/cli/run.ts "${args[@]}"
