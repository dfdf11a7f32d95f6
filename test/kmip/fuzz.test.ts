import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness } from '../kms/harness.js';
import { fuzz } from './fuzz-lib.js';

// Bounded in the suite; `node --import tsx scripts/fuzz-kmip.ts COUNT SEED` runs longer.
const CASES = 3000;

let h: Awaited<ReturnType<typeof openHarness>>;
beforeAll(async () => {
  h = await openHarness();
});
afterAll(async () => {
  await h.close();
});

describe('KMIP decoder and server fuzz', () => {
  it('never crashes on mutated valid messages; the server always answers a Response Message', async () => {
    const stats = await fuzz(CASES, 0x5eed, h.server);
    expect(stats.cases).toBe(CASES);
    expect(stats.rejected).toBeGreaterThan(0);
    expect(stats.decoded).toBeGreaterThan(0);
  });
});
