// The SQLite store's shared fsync (src/kms/store/coalesced-sync.ts): every caller is answered by a
// sync that began after its call, and many callers share few syncs.
import { describe, expect, it } from 'vitest';
import { coalescedSync } from '../../../src/kms/store/coalesced-sync.js';

/** A sync whose runs the test finishes by hand; `started` counts runs begun. */
function manualSync() {
  const runs: Array<{ finish: () => void; fail: (e: Error) => void }> = [];
  const sync = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      runs.push({ finish: resolve, fail: reject });
    });
  return { runs, sync };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('coalescedSync', () => {
  it('answers a caller only with a sync begun after its call; callers during a run share the next one', async () => {
    const m = manualSync();
    const request = coalescedSync(m.sync);
    const done: string[] = [];
    void request().then(() => done.push('a'));
    expect(m.runs).toHaveLength(1);
    // b, c and d arrive while run 1 is in progress: run 1 may have begun before their data.
    for (const n of ['b', 'c', 'd']) void request().then(() => done.push(n));
    expect(m.runs).toHaveLength(1);
    m.runs[0]!.finish();
    await tick();
    expect(done).toEqual(['a']);
    expect(m.runs).toHaveLength(2);
    m.runs[1]!.finish();
    await tick();
    expect(done).toEqual(['a', 'b', 'c', 'd']);
    expect(m.runs).toHaveLength(2);
  });

  it('a failed run fails its callers only; the next callers get a new run', async () => {
    const m = manualSync();
    const request = coalescedSync(m.sync);
    const first = request();
    const second = request();
    m.runs[0]!.fail(new Error('EIO'));
    await expect(first).rejects.toThrow('EIO');
    await tick();
    expect(m.runs).toHaveLength(2);
    m.runs[1]!.finish();
    await expect(second).resolves.toBeUndefined();
  });
});
