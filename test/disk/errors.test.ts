import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, openSync, readdirSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { DiskError, checkDiskKey, decryptDisk, diskInfo, encryptDisk, rekeyDisk } from '../../src/disk/index.js';
import { makeKey, makeRaw, sha256File, tempDir, type KeyPair } from './helpers.js';

const { dir, cleanup } = tempDir('vmcrypt-disk-errors-');
let k1: KeyPair;
let k2: KeyPair;
const raw = join(dir, 'raw.img');
const luks = join(dir, 'disk.luks');

beforeAll(async () => {
  k1 = makeKey(dir, 'k1');
  k2 = makeKey(dir, 'k2');
  makeRaw(raw, 8);
  await encryptDisk({ src: raw, dst: luks, dek: k1.dek });
});
afterAll(cleanup);

async function failure(p: Promise<unknown>): Promise<DiskError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DiskError);
    return err as DiskError;
  }
  throw new Error('expected a DiskError');
}

/** A copy of the good disk with `bytes` written at `offset`. */
function damaged(name: string, offset: number, bytes: Buffer): string {
  const p = join(dir, name);
  copyFileSync(luks, p);
  const fd = openSync(p, 'r+');
  writeSync(fd, bytes, 0, bytes.length, offset);
  closeSync(fd);
  return p;
}

describe('disk errors', () => {
  it('wrong key: WRONG_KEY, nothing written, file untouched', async () => {
    const sum = sha256File(luks);
    const out = join(dir, 'wrong.raw');
    expect((await failure(decryptDisk({ src: luks, dst: out, dek: k2.dek }))).code).toBe('WRONG_KEY');
    expect(existsSync(out)).toBe(false);
    for (const mode of ['shallow', 'deep'] as const) {
      const e = await failure(rekeyDisk({ path: luks, oldDek: k2.dek, newDek: k1.dek, mode }));
      expect(e.code).toBe('WRONG_KEY');
      expect(e.message).toMatch(/wrong key/);
    }
    expect(await checkDiskKey(luks, k1.dek)).toEqual({ slot: 0 });
    expect((await failure(checkDiskKey(luks, k2.dek))).code).toBe('WRONG_KEY');
    expect(sha256File(luks)).toBe(sum);
    expect(readdirSync(dir).filter((n) => n.includes('vmcrypt-tmp'))).toEqual([]);
  });

  it('names what is wrong with a corrupted or truncated header', async () => {
    const cases: [string, string, RegExp][] = [
      [damaged('magic.luks', 0, Buffer.from('XXXX')), 'DISK_NOT_LUKS', /bad magic/],
      [damaged('v2.luks', 6, Buffer.from([0, 2])), 'DISK_UNSUPPORTED', /LUKS version 2/],
      [damaged('mode.luks', 40, Buffer.from('cbc-essiv:sha256\0')), 'DISK_UNSUPPORTED', /cipher/],
      [damaged('slot.luks', 208, Buffer.from([1, 2, 3, 4])), 'DISK_HEADER_CORRUPT', /keyslot 0 state/],
      [damaged('stripes.luks', 208 + 44, Buffer.from([0, 0, 0, 7])), 'DISK_HEADER_CORRUPT', /keyslot 0 AF stripes/],
      [damaged('payload.luks', 104, Buffer.from([0xff, 0xff, 0xff, 0xff])), 'DISK_HEADER_CORRUPT', /payload offset/],
    ];
    const short = join(dir, 'short.luks');
    copyFileSync(luks, short);
    truncateSync(short, 300);
    cases.push([short, 'DISK_TRUNCATED', /truncated LUKS header/]);
    const noMaterial = join(dir, 'nomat.luks');
    copyFileSync(luks, noMaterial);
    truncateSync(noMaterial, 100_000);
    cases.push([noMaterial, 'DISK_TRUNCATED', /keyslot 0 key material/]);
    const noPayload = join(dir, 'nopayload.luks');
    copyFileSync(luks, noPayload);
    truncateSync(noPayload, 1 << 20);
    cases.push([noPayload, 'DISK_TRUNCATED', /payload starts at byte/]);
    for (const [file, code, msg] of cases) {
      const e = await failure(diskInfo(file));
      expect(e.code, file).toBe(code);
      expect(e.message).toMatch(msg);
      expect((await failure(decryptDisk({ src: file, dst: join(dir, 'never.raw'), dek: k1.dek }))).code).toBe(code);
    }
    // Damaged key material cannot be told from a wrong key in LUKS1 (no checksum): WRONG_KEY.
    const mat = damaged('material.luks', 8 * 512 + 1000, Buffer.alloc(64, 0xee));
    expect((await failure(decryptDisk({ src: mat, dst: join(dir, 'never.raw'), dek: k1.dek }))).message).toMatch(/damaged/);
  });

  it('refuses to overwrite, bad sizes and same-key rekeys', async () => {
    expect((await failure(encryptDisk({ src: raw, dst: luks, dek: k1.dek }))).code).toBe('DISK_EXISTS');
    const odd = join(dir, 'odd.img');
    writeFileSync(odd, Buffer.alloc(1000));
    expect((await failure(encryptDisk({ src: odd, dst: join(dir, 'odd.luks'), dek: k1.dek }))).code).toBe('DISK_BAD_INPUT');
    expect((await failure(encryptDisk({ src: join(dir, 'missing'), dst: join(dir, 'm.luks'), dek: k1.dek }))).code).toBe('DISK_NOT_FOUND');
    expect((await failure(rekeyDisk({ path: luks, oldDek: k1.dek, newDek: k1.dek, mode: 'shallow' }))).code).toBe('DISK_BAD_INPUT');
  });

  it('checks free space before starting (twice-the-space rule): DISK_NO_SPACE', async () => {
    const huge = join(dir, 'huge.img');
    writeFileSync(huge, '');
    truncateSync(huge, 8 * 1024 ** 4); // 8 TiB sparse source: far more than this filesystem has free
    const dst = join(dir, 'huge.luks');
    const e = await failure(encryptDisk({ src: huge, dst, dek: k1.dek }));
    expect(e.code).toBe('DISK_NO_SPACE');
    expect(e.message).toMatch(/not enough free space/);
    expect(existsSync(dst)).toBe(false);
  });

  it('one operation per disk at a time: DISK_BUSY, stale locks removed', async () => {
    const sleeper = spawn('sleep', ['30']);
    try {
      writeFileSync(join(dir, '.disk.luks.vmcrypt-lock'), String(sleeper.pid));
      const e = await failure(rekeyDisk({ path: luks, oldDek: k1.dek, newDek: k2.dek, mode: 'shallow' }));
      expect(e.code).toBe('DISK_BUSY');
    } finally {
      sleeper.kill('SIGKILL');
    }
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(join(dir, '.disk.luks.vmcrypt-lock'), String(dead));
    const notices: string[] = [];
    await rekeyDisk({ path: luks, oldDek: k1.dek, newDek: k2.dek, mode: 'shallow', onNotice: (m) => notices.push(m) });
    expect(notices.join('\n')).toMatch(/removed stale lock/);
    expect(existsSync(join(dir, '.disk.luks.vmcrypt-lock'))).toBe(false);
    await rekeyDisk({ path: luks, oldDek: k2.dek, newDek: k1.dek, mode: 'shallow' });
  });

  it('cleans stale temporary files of a crashed run, with a message', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid; // a pid that has exited
    const stale = join(dir, `.clean.luks.vmcrypt-tmp-${dead}-deadbeef`);
    writeFileSync(stale, 'half-written');
    const notices: string[] = [];
    await encryptDisk({ src: raw, dst: join(dir, 'clean.luks'), dek: k1.dek, onNotice: (m) => notices.push(m) });
    expect(existsSync(stale)).toBe(false);
    expect(notices.join('\n')).toMatch(/removed stale temporary file .*vmcrypt-tmp/);
  });
});
