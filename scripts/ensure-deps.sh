#!/usr/bin/env bash
# Installs what vmcrypt needs when it is missing: npm dependencies (npm ci) and the Debian
# packages listed in scripts/debian-packages.txt (apt-get, as root). Without root it prints
# the exact command to run instead.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
while read -r pkg probe; do
  case "$pkg" in ''|\#*) continue ;; esac
  [ -e "$probe" ] || missing+=("$pkg")
done < scripts/debian-packages.txt

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "vmcrypt: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || true
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "vmcrypt: missing Debian packages. Run as root:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "vmcrypt: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
fi

# The native addons (optional; npm ci builds them): build them when a checkout lacks one.
if [ ! -f build/Release/vmcrypt_xts.node ] || [ ! -f build/Release/vmcrypt_relay.node ]; then
  node scripts/build-native.mjs >&2
fi
