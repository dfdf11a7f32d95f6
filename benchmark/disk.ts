// npm run bench:disk — our LUKS1 bulk engine vs `qemu-img convert`, with `openssl speed` as the ceiling;
// then the in-place modes (no second copy) vs the same qemu-img runs and vs `dd conv=notrunc` (the floor).
// BENCH_QUICK=1: 128 MiB instead of 1 GiB. Files live in /dev/shm (tmpfs) so the disk is not measured.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync, writeFileSync, existsSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { loadavg, tmpdir } from 'node:os';
import {
  createEncryptedDisk, decryptDisk, decryptDiskInPlace, encryptDisk, encryptDiskInPlace, rekeyDisk, rekeyDiskInPlace,
} from '../src/disk/index.js';
import { generateDek, dekToHex } from '../src/crypto/dek.js';
import { XtsPool } from '../src/disk/bulk/pool.js';
import { WalkWorkers } from '../src/disk/inplace/walk-pool.js';

const quick = process.env['BENCH_QUICK'] === '1';
const size = (quick ? 128 : 1024) * 1024 * 1024;
const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const dir = mkdtempSync(join(base, 'vmcrypt-bench-'));
const MB = 1e6;

function fillRandom(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  const buf = Buffer.alloc(8 << 20);
  for (let off = 0; off < bytes; off += buf.length) {
    randomFillSync(buf);
    writeSync(fd, buf, 0, Math.min(buf.length, bytes - off));
  }
  closeSync(fd);
}

/**
 * Times a qemu-img run. QEMU first benchmarks PBKDF2 for a LUKS target and on a busy machine may
 * fail with "Unable to get accurate CPU usage"; such a run is retried and not counted.
 */
function qemuImg(args: string[], out: string): number {
  for (let attempt = 1; ; attempt++) {
    const t = performance.now();
    try {
      execFileSync('qemu-img', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      return (performance.now() - t) / 1000;
    } catch (err) {
      if (attempt >= 5 || !/accurate CPU usage/.test(String((err as { stderr?: Buffer }).stderr ?? err))) throw err;
      rmSync(out, { force: true });
    }
  }
}

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

/** Wall time and CPU seconds of this process, all threads (workers included): CPU is what load cannot inflate much. */
async function timeCpu(fn: () => Promise<unknown>): Promise<{ s: number; cpu: string }> {
  const c = process.cpuUsage();
  const s = await timeAsync(fn);
  const u = process.cpuUsage(c);
  return { s, cpu: `cpu ${(u.user / 1e6).toFixed(2)} user + ${(u.system / 1e6).toFixed(2)} sys` };
}

function timeCmd(cmd: string, args: string[]): number {
  const t = performance.now();
  execFileSync(cmd, args, { stdio: 'ignore' });
  return (performance.now() - t) / 1000;
}

function opensslCeiling(): number {
  const out = execFileSync('openssl', ['speed', '-evp', 'aes-256-xts', '-seconds', quick ? '1' : '3', '-bytes', '16384'], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
  });
  const line = out.split('\n').find((l) => /AES-256-XTS/i.test(l) && /\d+(\.\d+)?k/.test(l));
  const m = line === undefined ? null : /([\d.]+)k\s*$/.exec(line.trim());
  if (m === null) throw new Error(`cannot parse openssl speed output:\n${out}`);
  return (Number(m[1]) * 1000) / MB;
}

function row(name: string, seconds: number, bytes = size): string {
  return `${name.padEnd(34)} ${seconds.toFixed(2).padStart(7)} s  ${(bytes / MB / seconds).toFixed(0).padStart(6)} MB/s`;
}

try {
  const dek = generateDek();
  const dek2 = generateDek();
  const k1 = join(dir, 'k1');
  const k2 = join(dir, 'k2');
  writeFileSync(k1, dekToHex(dek), { mode: 0o600 });
  writeFileSync(k2, dekToHex(dek2), { mode: 0o600 });
  const raw = join(dir, 'raw.img');
  fillRandom(raw, size);
  // Run from the TypeScript sources, each worker file is bundled once per process (esbuild, 0.1–0.5 s);
  // the compiled CLI has no such step. Build both bundles before timing anything.
  await new XtsPool({}, 1).close();
  await new WalkWorkers(1).close();
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on 2 cores (other sessions share the CPU when > ~0.5)`);
  console.log(`disk benchmark: ${size / 1024 / 1024} MiB of random data in ${dir}, ${quick ? 'BENCH_QUICK' : 'full'} run`);

  // The I/O floor: a plain copy of the same file on the same filesystem (no crypto at all).
  const cpSeconds = timeCmd('cp', ['--sparse=never', raw, join(dir, 'copy.img')]);
  rmSync(join(dir, 'copy.img'));
  console.log(row('cp (I/O only, no crypto)', cpSeconds));

  // Copy modes: mapped I/O by default (src/disk/bulk/copy-map.ts); VMCRYPT_COPY_IO=pread for the buffered path.
  const ours: number[] = [];
  for (const [name, fn] of [
    ['ours   encrypt  raw→LUKS', () => encryptDisk({ src: raw, dst: join(dir, 'ours.luks'), dek })],
    ['ours   decrypt  LUKS→raw', () => decryptDisk({ src: join(dir, 'ours.luks'), dst: join(dir, 'ours.raw'), dek })],
    ['ours   deep rekey LUKS→LUKS', () => rekeyDisk({ path: join(dir, 'ours.luks'), oldDek: dek, newDek: dek2, mode: 'deep' })],
  ] as const) {
    const t = await timeCpu(fn);
    ours.push(t.s);
    console.log(`${row(name, t.s)}  ${t.cpu}`);
  }
  console.log(`copy modes' I/O: ${process.env['VMCRYPT_COPY_IO'] === 'pread' ? 'pread/pwrite (VMCRYPT_COPY_IO=pread)' : 'mapped when the addon has it'}`);
  rmSync(join(dir, 'ours.raw'));

  const sec = (id: string, f: string): string[] => ['--object', `secret,id=${id},file=${f}`];
  const peer: number[] = [];
  peer.push(qemuImg(['convert', '-f', 'raw', '-O', 'luks', ...sec('s0', k1), '-o', 'key-secret=s0,iter-time=10', raw, join(dir, 'q.luks')], join(dir, 'q.luks')));
  console.log(row('qemu-img convert raw→LUKS', peer[0]!));
  peer.push(qemuImg(['convert', ...sec('s0', k1), '--image-opts', `driver=luks,key-secret=s0,file.filename=${join(dir, 'q.luks')}`, '-O', 'raw', join(dir, 'q.raw')], join(dir, 'q.raw')));
  console.log(row('qemu-img convert LUKS→raw', peer[1]!));
  rmSync(join(dir, 'q.raw'));
  peer.push(qemuImg(['convert', ...sec('s0', k1), ...sec('s1', k2), '--image-opts', `driver=luks,key-secret=s0,file.filename=${join(dir, 'q.luks')}`, '-O', 'luks', '-o', 'key-secret=s1,iter-time=10', join(dir, 'q2.luks')], join(dir, 'q2.luks')));
  console.log(row('qemu-img convert LUKS→LUKS (deep)', peer[2]!));
  rmSync(join(dir, 'q.luks'));
  rmSync(join(dir, 'q2.luks'));

  // In place: the same three conversions on one file that never gets a second copy.
  const ip = join(dir, 'inplace.img');
  execFileSync('cp', ['--sparse=never', raw, ip]);
  // The floor: rewrite the same file where it is, no crypto (what in place cannot beat).
  // Best of two: on a shared machine one load spike must not pass for the storage's floor.
  const dd = (): number => timeCmd('dd', [`if=${ip}`, `of=${ip}`, 'bs=4M', 'conv=notrunc', 'status=none']);
  const ddSeconds = Math.min(dd(), dd());
  console.log(row('dd conv=notrunc (in-place floor)', ddSeconds));
  const inPlace: number[] = [];
  for (const [name, fn] of [
    ['ours   encrypt  --in-place', () => encryptDiskInPlace({ path: ip, dek })],
    ['ours   deep rekey --in-place', () => rekeyDiskInPlace({ path: ip, oldDek: dek, newDek: dek2 })],
    ['ours   decrypt  --in-place', () => decryptDiskInPlace({ path: ip, dek: dek2 })],
  ] as const) {
    const t = await timeCpu(fn);
    inPlace.push(t.s);
    console.log(`${row(name, t.s)}  ${t.cpu}`);
  }
  let same = true;
  try {
    execFileSync('cmp', ['-s', raw, ip], { stdio: 'ignore' });
  } catch {
    same = false;
  }
  console.log(`in-place round trip byte-identical to the original: ${same ? 'yes' : 'NO'}`);
  if (!same) process.exitCode = 1;
  rmSync(ip);
  rmSync(raw);

  // Shallow rekey: O(1) in disk size — same time for a 1 GiB and a 100 GiB (sparse) disk.
  const shallow: string[] = [];
  for (const gib of [1, 100]) {
    const p = join(dir, `shallow-${gib}.luks`);
    await createEncryptedDisk({ path: p, sizeBytes: gib * 1024 ** 3, dek });
    const t = await timeAsync(() => rekeyDisk({ path: p, oldDek: dek, newDek: dek2, mode: 'shallow' }));
    shallow.push(`${gib}GiB=${(t * 1000).toFixed(0)}ms`);
    console.log(`ours   shallow rekey ${String(gib).padStart(3)} GiB sparse disk  ${(t * 1000).toFixed(0)} ms`);
    rmSync(p);
  }

  const ceiling = opensslCeiling();
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`openssl speed -evp aes-256-xts (16 KiB blocks, 1 core): ${ceiling.toFixed(0)} MB/s`);
  const oursRate = (3 * size) / MB / ours.reduce((a, b) => a + b, 0);
  const peerRate = (3 * size) / MB / peer.reduce((a, b) => a + b, 0);
  console.log(`ours = peer = bytes of encrypt+decrypt+deep rekey / their total time`);
  const inPlaceRate = (3 * size) / MB / inPlace.reduce((a, b) => a + b, 0);
  console.log(
    `RESULT disk ours=${oursRate.toFixed(0)} peer=${peerRate.toFixed(0)} ratio=${(oursRate / peerRate).toFixed(2)} ceiling=${ceiling.toFixed(0)} ` +
      `shallow_${shallow[0]} shallow_${shallow[1]} io_cp=${(size / MB / cpSeconds).toFixed(0)}`,
  );
  // The very last line: the in-place modes (same byte count, same qemu-img peer, dd as the floor).
  console.log(
    `RESULT disk-inplace ours=${inPlaceRate.toFixed(0)} peer=${peerRate.toFixed(0)} ratio=${(inPlaceRate / peerRate).toFixed(2)} floor=${(size / MB / ddSeconds).toFixed(0)}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
