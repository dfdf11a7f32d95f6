import { afterAll, describe, expect, it } from 'vitest';
import { open, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { runShift } from '../../src/disk/inplace/shift.js';
import { WalkWorkers } from '../../src/disk/inplace/walk-pool.js';
import { XtsCipher } from '../../src/crypto/xts.js';
import { tempDir } from './helpers.js';

// The walk workers of a finished in-place operation are kept (idle, keyless, unref'd) for the next
// one in the same process; a set whose walk failed is closed instead.
const { dir, cleanup } = tempDir('vmcrypt-disk-walk-reuse-');
const MiB = 1 << 20;
afterAll(async () => {
  await WalkWorkers.borrow(2).close();
  cleanup();
});

async function encryptUp(workers: WalkWorkers, name: string): Promise<void> {
  const size = 3 * MiB;
  const data = randomBytes(size);
  const key = randomBytes(64);
  const path = join(dir, name);
  await writeFile(path, Buffer.concat([data, Buffer.alloc(2 * MiB)]));
  const fh = await open(path, 'r+');
  try {
    await runShift({ op: 'encrypt', srcBase: 0, dstBase: 2 * MiB, lo: 0, hi: size, fh, workers, keys: { dstKey: key }, from: size, sourceHoles: false, persist: () => undefined });
  } finally {
    await fh.close();
  }
  const expected = Buffer.from(data);
  new XtsCipher(key).encrypt(expected, 0);
  expect((await readFile(path)).subarray(2 * MiB).equals(expected)).toBe(true);
}

describe('walk workers are reused across in-place operations of one process', () => {
  it('release() keeps a set that walked well; the next borrow() of that size gets it and it still converts correctly', async () => {
    const first = WalkWorkers.borrow(2);
    await encryptUp(first, 'a.img');
    await first.release();
    const second = WalkWorkers.borrow(2);
    expect(second).toBe(first);
    await encryptUp(second, 'b.img');
    await second.release();
    // Another size is not served from the kept set (which is closed).
    const three = WalkWorkers.borrow(3);
    expect(three).not.toBe(first);
    await three.close();
    const again = WalkWorkers.borrow(2);
    expect(again).not.toBe(first);
    await again.close();
  });

  it('a set whose walk failed is closed on release(), not kept', async () => {
    const workers = WalkWorkers.borrow(2);
    const path = join(dir, 'short.img');
    await writeFile(path, randomBytes(MiB));
    const fh = await open(path, 'r+');
    try {
      const walk = { op: 'encrypt', srcBase: 0, dstBase: 2 * MiB, lo: 0, hi: 8 * MiB } as const;
      await expect(runShift({ ...walk, fh, workers, keys: { dstKey: randomBytes(64) }, from: 8 * MiB, sourceHoles: false, persist: () => undefined }))
        .rejects.toMatchObject({ code: 'DISK_TRUNCATED' });
    } finally {
      await fh.close();
    }
    await workers.release();
    const next = WalkWorkers.borrow(2);
    expect(next).not.toBe(workers);
    await next.release();
  });
});
