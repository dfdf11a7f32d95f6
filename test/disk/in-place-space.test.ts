import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  DiskError, decryptDisk, decryptDiskInPlace, encryptDisk, encryptDiskInPlace, rekeyDisk, rekeyDiskInPlace,
} from '../../src/disk/index.js';
import { makeKey, makeRaw, qemuSame, sha256File, tempDir, type KeyPair } from './helpers.js';

// Disk full: a datastore that cannot hold a second copy. A real tmpfs of 60 MiB mounted for this
// test (needs root; skipped with the reason otherwise) holding a 32 MiB disk: the copy modes
// refuse with DISK_NO_SPACE before writing anything, in place needs only the header's growth.
const { dir, cleanup } = tempDir('vmcrypt-disk-inplace-space-');
const mnt = join(dir, 'datastore');
let mounted = false;
let why = '';
try {
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=60m,mode=0700', 'tmpfs', mnt], { stdio: 'pipe' });
  mounted = true;
} catch (err) {
  why = String((err as { stderr?: Buffer }).stderr ?? err).trim();
}
let k1: KeyPair;
let k2: KeyPair;
const original = join(dir, 'original.img');

beforeAll(() => {
  k1 = makeKey(dir, 'k1');
  k2 = makeKey(dir, 'k2');
  makeRaw(original, 32);
});
afterAll(() => {
  if (mounted) execFileSync('umount', [mnt]);
  cleanup();
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof DiskError ? err.code : String(err);
  }
}

describe.skipIf(!mounted)(`disk full: in place where the copy mode refuses (60 MiB tmpfs)${mounted ? '' : ` — skipped: cannot mount tmpfs (${why})`}`, () => {
  it('encrypt, deep rekey and decrypt of a 32 MiB disk on a 60 MiB file system', async () => {
    const disk = join(mnt, 'vm.img');
    copyFileSync(original, disk);
    expect(await codeOf(encryptDisk({ src: disk, dst: join(mnt, 'vm.luks'), dek: k1.dek }))).toBe('DISK_NO_SPACE');
    await encryptDiskInPlace({ path: disk, dek: k1.dek });
    expect(await qemuSame(disk, k1, original)).toBe(true);

    expect(await codeOf(rekeyDisk({ path: disk, oldDek: k1.dek, newDek: k2.dek, mode: 'deep' }))).toBe('DISK_NO_SPACE');
    await rekeyDiskInPlace({ path: disk, oldDek: k1.dek, newDek: k2.dek });
    expect(await qemuSame(disk, k2, original)).toBe(true);

    expect(await codeOf(decryptDisk({ src: disk, dst: join(mnt, 'vm.raw'), dek: k2.dek }))).toBe('DISK_NO_SPACE');
    await decryptDiskInPlace({ path: disk, dek: k2.dek });
    expect(sha256File(disk)).toBe(sha256File(original));
  });
});
