import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open, readFile, writeFile } from 'node:fs/promises';
import { readSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { runShift } from '../../src/disk/inplace/shift.js';
import { WalkWorkers } from '../../src/disk/inplace/walk-pool.js';
import { LAG, boundaryAfter, planOf } from '../../src/disk/inplace/walk-plan.js';
import type { TraceEntry } from '../../src/disk/inplace/walk-protocol.js';
import { XtsCipher } from '../../src/crypto/xts.js';
import { tempDir } from './helpers.js';

// The in-place walk with its real worker threads, real XTS and a real file. The workers report
// every write with the durable window count they saw at the slack gate; the test checks each one
// against the boundary recorded for that count, and at every record that the bytes it declares
// done are already converted at their new place.
const { dir, cleanup } = tempDir('vmcrypt-disk-inplace-walk-');
let workers: WalkWorkers;
beforeAll(() => {
  workers = new WalkWorkers(3);
});
afterAll(async () => {
  await workers.close();
  cleanup();
});

const MiB = 1 << 20;
const cases = [
  ['up by 2 MiB (encrypt, rekey 4096→8192)', 0, 2 * MiB],
  ['down by 2 MiB (decrypt, rekey 8192→4096)', 2 * MiB, 0],
  ['up by 2068480 (qemu-img 4040)', 4096, 4096 + 2068480],
] as const;

describe('the in-place walk keeps its slack (every write lands where a rerun no longer needs the source)', () => {
  for (const [name, srcBase, dstBase, io] of cases.flatMap(([n, s, d]) => [[n, s, d, undefined], [`${n}, pread/pwrite path`, s, d, 'pread']] as const)) {
    it(name, async () => {
      const size = 13 * MiB + 7 * 512;
      const path = join(dir, `walk-${srcBase}-${dstBase}.img`);
      const data = randomBytes(size);
      const key = randomBytes(64);
      const expected = Buffer.from(data);
      new XtsCipher(key).encrypt(expected, 0);
      await writeFile(path, Buffer.concat([Buffer.alloc(srcBase), data, Buffer.alloc(Math.max(0, dstBase - srcBase))]));
      const walk = { op: 'encrypt', srcBase, dstBase, lo: 0, hi: size } as const;
      const back = dstBase > srcBase;
      const plan = planOf(walk, back ? size : 0);
      const shift = Math.abs(dstBase - srcBase);
      const recorded = [plan.from]; // recorded[n]: the boundary on record once n windows are durable
      let writes: TraceEntry[] = [];
      const fh = await open(path, 'r+');
      try {
        await runShift({
          ...walk, fh, workers, keys: { dstKey: key }, from: plan.from, sourceHoles: false, ...(io === undefined ? {} : { io }),
          persist: (b) => {
            const prev = recorded[recorded.length - 1]!;
            expect(back ? b < prev : b > prev).toBe(true); // boundaries only move forward
            // The record never claims more than is at its new place: read it back now.
            const [a, z] = back ? [b, prev] : [prev, b];
            const got = Buffer.alloc(z - a);
            readSync(fh.fd, got, 0, got.length, dstBase + a);
            expect(got.equals(expected.subarray(a, z))).toBe(true);
            while (recorded.length <= plan.windows && boundaryAfter(plan, recorded.length - 1) !== b) recorded.push(NaN); // windows recorded together
            expect(recorded.length).toBeLessThanOrEqual(plan.windows);
            recorded.push(b);
          },
          onTrace: (w) => (writes = w),
        });
      } finally {
        await fh.close();
      }
      expect(recorded[recorded.length - 1]).toBe(back ? 0 : size);
      expect(writes.length).toBe(plan.windows);
      const windowsSeen = new Set<number>();
      for (const [pos, len, seen] of writes) {
        const o = pos - dstBase; // payload offset of the write
        const k = back ? (plan.from - o - len) / plan.win : (o - plan.from) / plan.win;
        windowsSeen.add(k);
        expect(k - seen).toBeLessThan(LAG); // the gate
        // The count a worker saw was published only after its record was durable.
        expect(Number.isNaN(recorded[seen])).toBe(false);
        if (back) expect(o + shift).toBeGreaterThanOrEqual(recorded[seen]!);
        else expect(o + len - shift).toBeLessThanOrEqual(recorded[seen]!);
      }
      expect(windowsSeen.size).toBe(plan.windows); // each window written exactly once
      const out = await readFile(path);
      expect(out.subarray(dstBase, dstBase + size).equals(expected)).toBe(true);
    });
  }

  it('a worker failure (source cut short) stops every worker and is the error; a failing record too', async () => {
    const path = join(dir, 'short.img');
    await writeFile(path, randomBytes(4 * MiB));
    const fh = await open(path, 'r+');
    try {
      const walk = { op: 'encrypt', srcBase: 0, dstBase: 2 * MiB, lo: 0, hi: 8 * MiB } as const;
      await expect(runShift({ ...walk, fh, workers, keys: { dstKey: randomBytes(64) }, from: 8 * MiB, sourceHoles: false, persist: () => undefined }))
        .rejects.toMatchObject({ code: 'DISK_TRUNCATED' });
      const ok = { ...walk, hi: 2 * MiB };
      await expect(runShift({ ...ok, fh, workers, keys: { dstKey: randomBytes(64) }, from: 2 * MiB, sourceHoles: false, persist: () => { throw new Error('record failed'); } }))
        .rejects.toThrow('record failed');
      // The same workers still serve a walk afterwards.
      let last = -1;
      await runShift({ ...ok, fh, workers, keys: { dstKey: randomBytes(64) }, from: 2 * MiB, sourceHoles: false, persist: (b) => void (last = b) });
      expect(last).toBe(0);
    } finally {
      await fh.close();
    }
  });
});
