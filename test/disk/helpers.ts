import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);

export interface KeyPair {
  dek: Buffer;
  /** Key file: 64 hex chars + newline (our CLI format). */
  file: string;
  /** Same key as a QEMU secret file (no newline: QEMU takes the bytes verbatim). */
  secret: string;
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function makeKey(dir: string, name: string): KeyPair {
  const dek = randomBytes(32);
  const file = join(dir, `${name}.key`);
  const secret = join(dir, `${name}.secret`);
  writeFileSync(file, `${dek.toString('hex')}\n`, { mode: 0o600 });
  writeFileSync(secret, dek.toString('hex'), { mode: 0o600 });
  return { dek, file, secret };
}

/** A raw image: random data with an all-zero stretch in the middle (to exercise holes). */
export function makeRaw(path: string, mib: number): void {
  const fd = openSync(path, 'w');
  const buf = Buffer.alloc(1 << 20);
  for (let i = 0; i < mib; i++) {
    if (i >= mib / 4 && i < mib / 2) buf.fill(0);
    else randomFillSync(buf);
    writeSync(fd, buf);
  }
  closeSync(fd);
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** QEMU image-opts for one of our LUKS files opened with `secretId`. */
export function luksOpts(file: string, secretId = 's0'): string {
  return `driver=luks,key-secret=${secretId},file.filename=${file}`;
}

export function secretObj(key: KeyPair, id = 's0'): string[] {
  return ['--object', `secret,id=${id},file=${key.secret}`];
}

/** `qemu-img compare` of a LUKS file (opened with key) against a raw file; resolves true when identical. */
export async function qemuSame(luks: string, key: KeyPair, raw: string): Promise<boolean> {
  try {
    await run('qemu-img', ['compare', ...secretObj(key), '--image-opts', luksOpts(luks), `driver=raw,file.filename=${raw}`]);
    return true;
  } catch {
    return false;
  }
}

/**
 * `qemu-img convert` raw→LUKS. QEMU benchmarks PBKDF2 first and sometimes fails with "Unable to
 * get accurate CPU usage" on a busy machine; that is QEMU's timing probe, so we retry.
 */
export async function qemuConvertToLuks(raw: string, luks: string, key: KeyPair): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run('qemu-img', ['convert', '-f', 'raw', '-O', 'luks', ...secretObj(key), '-o', 'key-secret=s0,iter-time=10', raw, luks]);
      return;
    } catch (err) {
      if (attempt >= 5 || !/accurate CPU usage/.test(String(err))) throw err;
      rmSync(luks, { force: true });
    }
  }
}
