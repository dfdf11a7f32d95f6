// Long crash loop for in-place disk operations:
//   node --import tsx scripts/crash-loop-disk-inplace.ts [ROUNDS_PER_OP] [MIB] [OPS]
// Each round prepares a disk, starts `vmcrypt disk encrypt|decrypt|rekey --deep --in-place`,
// SIGKILLs it at 1–3 random moments (after each kill: no key opens the file with other data than
// the original), then reruns the same command and checks the result byte-identical (qemu-img
// compare, or sha256 for decrypt) with no sidecar left. Exit 0 when every round held.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeKey, makeRaw, sha256File } from '../test/disk/helpers.js';
import { crashRound, useRunner, type CrashOp } from '../test/disk/in-place-crash-lib.js';
import { decryptDiskInPlace, encryptDiskInPlace, rekeyDiskInPlace } from '../src/disk/index.js';

// Child mode: the same `disk encrypt|decrypt FILE --in-place --key-file K` / `disk rekey FILE
// --key-file OLD --new-key-file NEW --deep --in-place` arguments as the CLI, run by src/disk alone.
if (process.argv[2] === 'disk') {
  const a = process.argv.slice(3);
  const key = (flag: string): Buffer => Buffer.from(readFileSync(a[a.indexOf(flag) + 1]!, 'utf8').trim(), 'hex');
  const onNotice = (m: string): void => void process.stderr.write(`${m}\n`);
  const [op, path] = [a[0]!, a[1]!];
  if (op === 'rekey') await rekeyDiskInPlace({ path, oldDek: key('--key-file'), newDek: key('--new-key-file'), onNotice });
  else if (op === 'encrypt') await encryptDiskInPlace({ path, dek: key('--key-file'), onNotice });
  else await decryptDiskInPlace({ path, dek: key('--key-file'), onNotice });
  process.exit(0);
}
useRunner(['--import', 'tsx', fileURLToPath(import.meta.url)]);

const rounds = Number(process.argv[2] ?? 50);
const mib = Number(process.argv[3] ?? 64);
const ops = (process.argv[4] ?? 'encrypt,rekey,decrypt').split(',') as CrashOp[];
const dir = mkdtempSync(join(tmpdir(), 'vmcrypt-crash-inplace-'));
const k1 = makeKey(dir, 'k1');
const k2 = makeKey(dir, 'k2');
const raw = join(dir, 'raw.img');
makeRaw(raw, mib);
const rawSum = sha256File(raw);
const counts: Record<string, { rounds: number; kills: number; resumed: number; failures: number }> = {};
try {
  for (let r = 1; r <= rounds; r++) {
    for (const op of ops) {
      const c = (counts[op] ??= { rounds: 0, kills: 0, resumed: 0, failures: 0 });
      c.rounds++;
      try {
        const log = await crashRound({ op, file: join(dir, `${op}.img`), raw, rawSum, k1, k2 }, 1 + (r % 3), 100 + mib);
        c.kills += log.filter((l) => l.includes(' killed ')).length;
        c.resumed += log.filter((l) => l.includes('resumed')).length;
        console.log(`round ${r} ${op.padEnd(7)} ${log.join(' | ')}: ok`);
      } catch (err) {
        c.failures++;
        console.log(`round ${r} ${op} FAILED: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
let failures = 0;
for (const [op, c] of Object.entries(counts)) {
  failures += c.failures;
  console.log(`${op}: ${c.rounds} rounds, ${c.kills} kill -9s, ${c.resumed} resumed, ${c.failures} failures`);
}
console.log(failures === 0 ? `in-place crash loop (${mib} MiB): all intact` : `in-place crash loop: ${failures} FAILURES`);
process.exitCode = failures === 0 ? 0 : 1;
