// Longer fuzz run of the KMIP decoder and key server: node --import tsx scripts/fuzz-kmip.ts [COUNT] [SEED]
import { openHarness } from '../test/kms/harness.js';
import { fuzz } from '../test/kmip/fuzz-lib.js';

const count = Number(process.argv[2] ?? 200_000);
const seed = Number(process.argv[3] ?? Date.now() % 0xffffffff);
const h = await openHarness();
try {
  const started = Date.now();
  const stats = await fuzz(count, seed, h.server);
  console.log(`fuzz-kmip: ${stats.cases} cases (seed ${seed}): ${stats.decoded} decoded, ${stats.rejected} rejected, 0 crashes, ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await h.close();
}
