// Long crash loop for the disk bulk engine: `node --import tsx scripts/crash-loop-disk.ts [ROUNDS] [MIB]`.
// Each round starts `vmcrypt disk encrypt` or `disk rekey --deep` (or shallow), SIGKILLs it at a
// random moment, then checks the disk is either the old or the new one, complete, with the same
// plaintext checksum. Exit 0 when every round held; prints one line per round.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vmcryptArgv } from '../test/helpers/cli.js';
import { decryptDisk, encryptDisk, DiskError } from '../src/disk/index.js';

const rounds = Number(process.argv[2] ?? 30);
const mib = Number(process.argv[3] ?? 128);
const dir = mkdtempSync(join(tmpdir(), 'vmcrypt-crash-loop-'));
const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

const keys = [randomBytes(32), randomBytes(32)];
const keyFiles = keys.map((k, i) => {
  const f = join(dir, `k${i}`);
  writeFileSync(f, k.toString('hex'), { mode: 0o600 });
  return f;
});
const raw = join(dir, 'raw.img');
const fd = openSync(raw, 'w');
const buf = Buffer.alloc(1 << 20);
for (let i = 0; i < mib; i++) {
  if (i % 4 === 1) buf.fill(0);
  else randomFillSync(buf);
  writeSync(fd, buf);
}
closeSync(fd);
const rawSum = sha(raw);

function runAndKill(args: string[], ms: number): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...vmcryptArgv(), ...args], { stdio: ['ignore', 'ignore', 'ignore'] });
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code, sig) => {
      clearTimeout(t);
      resolve(sig ?? `exit ${code}`);
    });
  });
}

async function opensWith(file: string): Promise<number> {
  for (let i = 0; i < keys.length; i++) {
    const out = join(dir, 'check.raw');
    rmSync(out, { force: true });
    try {
      await decryptDisk({ src: file, dst: out, dek: keys[i]! });
    } catch (err) {
      if (err instanceof DiskError && err.code === 'WRONG_KEY') continue;
      throw err;
    }
    const ok = sha(out) === rawSum;
    rmSync(out);
    if (!ok) throw new Error(`${file}: plaintext checksum differs after a crash`);
    return i;
  }
  throw new Error(`${file} opens with neither key`);
}

let failures = 0;
const disk = join(dir, 'disk.luks');
await encryptDisk({ src: raw, dst: disk, dek: keys[0]! });
let current = 0;
try {
  for (let r = 1; r <= rounds; r++) {
    const kind = ['encrypt', 'deep', 'shallow'][r % 3]!;
    const ms = 100 + Math.floor(Math.random() * 4000);
    try {
      if (kind === 'encrypt') {
        const dst = join(dir, 'enc.luks');
        const how = await runAndKill(['disk', 'encrypt', raw, dst, '--key-file', keyFiles[0]!], ms);
        const state = existsSync(dst) ? (await opensWith(dst), 'complete') : 'absent';
        console.log(`round ${r} encrypt  kill@${ms}ms ${how}: destination ${state}`);
        rmSync(dst, { force: true });
      } else {
        const args = ['disk', 'rekey', disk, '--key-file', keyFiles[current]!, '--new-key-file', keyFiles[1 - current]!];
        const how = await runAndKill(kind === 'deep' ? [...args, '--deep'] : args, ms);
        current = await opensWith(disk);
        console.log(`round ${r} ${kind.padEnd(8)} kill@${ms}ms ${how}: opens with key ${current}, checksum ok`);
      }
    } catch (err) {
      failures++;
      console.log(`round ${r} ${kind} FAILED: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  // One clean run must remove every stale temp file.
  const r = spawnSync(process.execPath, [...vmcryptArgv(), 'disk', 'rekey', disk, '--key-file', keyFiles[current]!, '--new-key-file', keyFiles[1 - current]!, '--deep'], { encoding: 'utf8' });
  const e = spawnSync(process.execPath, [...vmcryptArgv(), 'disk', 'encrypt', raw, join(dir, 'enc.luks'), '--key-file', keyFiles[0]!], { encoding: 'utf8' });
  if (e.status !== 0) failures++;
  const left = readdirSync(dir).filter((n) => n.includes('.vmcrypt-tmp-'));
  const removed = ((r.stderr + e.stderr).match(/removed stale/g) ?? []).length;
  console.log(`clean runs: exit ${r.status}/${e.status}; ${removed} stale temp files removed; ${left.length} left`);
  if (r.status !== 0 || left.length > 0) failures++;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(failures === 0 ? `crash loop: ${rounds} rounds, all intact` : `crash loop: ${failures} FAILURES`);
process.exitCode = failures === 0 ? 0 : 1;
