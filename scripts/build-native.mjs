// Builds the optional native addons — the disk XTS (native/xts*.c) and the migration tunnel's relay
// (native/relay*.c) — with node-gyp against the headers of the Node that
// runs this script; never downloads anything. Runs from `npm ci` / `npm install` (the package's
// install script) and from `npm run build:native`. A failure is not fatal: vmcrypt then encrypts
// disks with its WebAssembly XTS path (slower) and says so; `npm test` reports the reason.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');

function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  // npm ships node-gyp; find it next to the npm that is on this machine.
  const npmCli = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout?.trim();
  const candidates = [npmCli && join(npmCli, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package here
  }
  return candidates.find((c) => c && existsSync(c));
}

// Local headers only: <prefix>/include/node/node_api.h of the running Node (Debian/NodeSource
// layout), or what npm's nodedir setting says.
const prefix = join(dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);

function fail(why) {
  const msg = `vmcrypt: native addons not built (${why}); disks will use the slower WebAssembly XTS path and migrations QEMU's TLS-PSK channel`;
  if (strict) {
    console.error(msg);
    process.exit(1);
  }
  console.warn(msg);
  process.exit(0);
}

const gyp = nodeGyp();
if (gyp === undefined) fail('node-gyp not found');
if (nodedir === undefined) fail(`no Node headers under ${prefix}/include/node`);
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) fail(`node-gyp failed:\n${(r.stderr || r.stdout || '').split('\n').slice(-15).join('\n')}`);
console.log('vmcrypt: native addons built (build/Release/vmcrypt_xts.node, build/Release/vmcrypt_relay.node)');
