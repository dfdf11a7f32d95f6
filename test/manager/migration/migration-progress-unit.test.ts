import { describe, expect, it } from 'vitest';
import type { ProgressUpdate } from '../../../src/manager/contracts.js';
import { reportStream } from '../../../src/manager/inventory/ops/migrate-service.js';

/** How a host's migration progress becomes the task's (the real stream: migration-progress.test.ts). */
const shown = (p: Parameters<typeof reportStream>[1]): ProgressUpdate => {
  let u: ProgressUpdate = {};
  reportStream({ update: (x) => (u = x) }, p);
  return u;
};

describe('migration progress in the task', () => {
  it('the share done is the guest RAM no longer remaining; bytes expected = sent + remaining', () => {
    const ram = 128 << 20;
    // 20 MiB of random pages sent, 8 MiB of zero pages scanned for next to nothing: 100 MiB left
    expect(shown({ bytes: 20 << 20, totalBytes: ram, remainingBytes: 100 << 20, mbPerSec: 15.8 })).toEqual({
      percent: 10 + Math.floor((28 / 128) * 85), bytesDone: 20 << 20, bytesTotal: 120 << 20, message: 'migrating memory, 15.8 MB/s, 100 MiB remaining',
    });
    expect(shown({ bytes: 60 << 20, totalBytes: ram, remainingBytes: 0 }).percent).toBe(95);
  });

  it('without what remains: bytes against the total; without a total: bytes only', () => {
    expect(shown({ bytes: 64 << 20, totalBytes: 128 << 20 })).toMatchObject({ percent: 52, bytesTotal: 128 << 20, message: 'migrating memory' });
    expect(shown({ bytes: 5 })).toEqual({ bytesDone: 5, message: 'migrating memory' });
  });
});
