import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { DiskError, createEncryptedDisk, encryptDisk, rekeyDisk } from '../../src/disk/index.js';
import { cleanStaleTemps, writeAtomically } from '../../src/fs/atomic-file.js';
import { lockPathFor, withDiskLock } from '../../src/disk/lock.js';
import { makeKey, makeRaw, tempDir, type KeyPair } from './helpers.js';

// The host agent runs src/disk inside its daemon: the lock and the stale-temp cleaner must tell a
// crash leftover from another operation of the same process or of another host.
const { dir, cleanup } = tempDir('vmcrypt-disk-lock-');
let k1: KeyPair;
let k2: KeyPair;
const raw = join(dir, 'raw.img');
const luks = join(dir, 'disk.luks');

beforeAll(async () => {
  k1 = makeKey(dir, 'k1');
  k2 = makeKey(dir, 'k2');
  makeRaw(raw, 4);
  await encryptDisk({ src: raw, dst: luks, dek: k1.dek });
});
afterAll(cleanup);

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DiskError);
    return (err as DiskError).code;
  }
  return 'ok';
}

describe('disk lock and stale temp files', () => {
  it('two operations on one disk in the same process: the second gets DISK_BUSY, the first completes', async () => {
    const deep = rekeyDisk({ path: luks, oldDek: k1.dek, newDek: k2.dek, mode: 'deep' });
    const shallow = rekeyDisk({ path: luks, oldDek: k1.dek, newDek: k2.dek, mode: 'shallow' });
    expect(await code(shallow)).toBe('DISK_BUSY');
    expect(await code(deep)).toBe('ok');
    expect(existsSync(lockPathFor(luks))).toBe(false);
    // The lock is released: the next operation runs.
    expect(await code(rekeyDisk({ path: luks, oldDek: k2.dek, newDek: k1.dek, mode: 'shallow' }))).toBe('ok');
  });

  it('create and encrypt to the same new path in one process: one wins, the other is refused', async () => {
    const dst = join(dir, 'race.luks');
    const results = await Promise.all([
      code(createEncryptedDisk({ path: dst, sizeBytes: 1 << 20, dek: k1.dek })),
      code(encryptDisk({ src: raw, dst, dek: k2.dek })),
    ]);
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r === 'DISK_BUSY' || r === 'DISK_EXISTS')).toHaveLength(1);
    expect(readdirSync(dir).filter((n) => n.includes('vmcrypt-tmp'))).toEqual([]);
  });

  it('the lock file names its owner and is never judged stale when it belongs to another host', async () => {
    await withDiskLock(luks, undefined, async () => {
      expect(readFileSync(lockPathFor(luks), 'utf8')).toBe(`${process.pid} ${hostname()}\n`);
    });
    // Shared datastore: pid 999999 does not exist here but may well exist on the other host.
    writeFileSync(lockPathFor(luks), `999999 other-host.example\n`);
    const notices: string[] = [];
    const p = rekeyDisk({ path: luks, oldDek: k1.dek, newDek: k2.dek, mode: 'shallow', onNotice: (m) => notices.push(m) });
    await expect(p).rejects.toThrow(/pid 999999 on host other-host\.example/);
    expect(existsSync(lockPathFor(luks))).toBe(true);
    expect(notices).toEqual([]);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid; // same host, process gone: stale
    writeFileSync(lockPathFor(luks), `${dead} ${hostname()}\n`);
    expect(await code(rekeyDisk({ path: luks, oldDek: k1.dek, newDek: k2.dek, mode: 'shallow', onNotice: (m) => notices.push(m) }))).toBe('ok');
    expect(notices.join('\n')).toMatch(/removed stale lock/);
  });

  it('a temp file this process is still writing is not stale; one it left behind is', async () => {
    const target = join(dir, 'atomic.bin');
    const leftover = join(dir, `.atomic.bin.vmcrypt-tmp-${process.pid}-0badc0de`);
    writeFileSync(leftover, 'left by an earlier run of the same pid');
    await writeAtomically(target, async (fh, tmp) => {
      const removed = await cleanStaleTemps(target);
      expect(removed).toEqual([leftover]);
      expect(existsSync(tmp)).toBe(true);
      await fh.writeFile('new');
    });
    expect(readFileSync(target, 'utf8')).toBe('new');
  });
});
