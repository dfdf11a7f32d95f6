#!/usr/bin/env bash
# Brings up a KMS cluster on loopback: 3 etcd members + 3 KMS nodes (`vmcrypt kms serve --store etcd`)
# sharing one data dir (master key + PKI). Foreground; Ctrl-C stops it. Same as `vmcrypt kms cluster up`.
#   scripts/kms-cluster.sh [--dir DIR] [--nodes 3] [--etcd-members 3] [--etcd-only] [--json]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node --import tsx --input-type=module -e '
import { kmsClusterCommand } from "./src/cli/commands/kms-cluster.ts";
import { processIo } from "./src/cli/command.ts";
import { VmcryptError } from "./src/errors.ts";
try {
  process.exitCode = await kmsClusterCommand(["up", ...process.argv.slice(1)], processIo);
} catch (e) {
  if (!(e instanceof VmcryptError)) throw e;
  console.error(`kms-cluster: ${e.message} [${e.code}]`);
  process.exitCode = e.exitCode;
}' -- "$@"
