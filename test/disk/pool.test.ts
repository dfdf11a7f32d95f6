import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { XtsPool, type WorkerExit } from '../../src/disk/bulk/pool.js';
import { XtsCipher } from '../../src/crypto/xts.js';

describe('XtsPool (bulk engine workers)', () => {
  it('moves private copies of the keys to the workers: the caller keeps its own, results match XtsCipher', async () => {
    const srcKey = randomBytes(64);
    const dstKey = randomBytes(64);
    const srcCopy = Buffer.from(srcKey);
    const dstCopy = Buffer.from(dstKey);
    const pool = new XtsPool({ srcKey, dstKey }, 2);
    try {
      // Transferring the caller's own buffers would detach them and its zero() would wipe nothing.
      expect(srcKey.equals(srcCopy)).toBe(true);
      expect(dstKey.equals(dstCopy)).toBe(true);
      const plain = randomBytes(64 * 1024 + 512);
      const ab = new ArrayBuffer(plain.length);
      plain.copy(Buffer.from(ab));
      const enc = await pool.run('encrypt', ab, plain.length, 1234);
      const direct = Buffer.from(plain);
      new XtsCipher(dstKey).encrypt(direct, 1234);
      expect(Buffer.from(enc.data, 0, enc.length).equals(direct)).toBe(true);
      // reencrypt = decrypt with srcKey, then encrypt with dstKey
      const re = await pool.run('reencrypt', enc.data, plain.length, 1234);
      const manual = Buffer.from(direct);
      new XtsCipher(srcKey).decrypt(manual, 1234);
      new XtsCipher(dstKey).encrypt(manual, 1234);
      expect(Buffer.from(re.data, 0, re.length).equals(manual)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('close() waits for the workers to exit (they wipe their scratch memory first) and is idempotent', async () => {
    const exits: WorkerExit[] = [];
    const pool = new XtsPool({ srcKey: randomBytes(64), dstKey: randomBytes(64) }, 2, { onWorkerExit: (e) => exits.push(e) });
    const ab = new ArrayBuffer(512);
    await pool.run('encrypt', ab, 512, 0);
    expect(exits).toEqual([]);
    await pool.close();
    // Both workers have exited by the time close() resolves, each after confirming its wipe.
    expect(exits).toEqual([
      { code: 0, wiped: true },
      { code: 0, wiped: true },
    ]);
    await pool.close(); // idempotent: exited workers are skipped
    expect(exits).toHaveLength(2);
  });
});
