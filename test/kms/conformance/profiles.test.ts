import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/cli.js';
import { expectedFailures, profileOf } from './expected-failures.js';
import { startKmsUnderTest, type KmsUnderTest } from './kms-under-test.js';
import { replayFile, type ReplayResult } from './replay.js';

/**
 * The OASIS KMIP 1.4 profile test cases (test/vectors/kmip-profiles-1.4) replayed against a real
 * `vmcrypt kms serve` over mutual TLS, in file order; each series of cases (SKFF-M, TL-M, …) as a
 * client identity of its own, as if it had the server to itself. A case listed in
 * expected-failures.ts must fail (it.fails): when a feature lands and the case passes, the test
 * says so, and the case moves out of the list (and docs/kms.md's Conformance section changes).
 */
const VECTORS = join(repoRoot, 'test', 'vectors', 'kmip-profiles-1.4');
const files = ['mandatory', 'optional', 'testcases'].flatMap((d) =>
  readdirSync(join(VECTORS, d))
    .filter((f) => f.endsWith('.xml'))
    .sort()
    .map((f) => ({ dir: d, name: f.replace(/\.xml$/, ''), path: join(VECTORS, d, f) })),
);

let kms: KmsUnderTest;
const results = new Map<string, ReplayResult>();

/** A series (SKFF-M, TL-M, TC-OFFSET, …) shares one client identity: its cases build on each other. */
const seriesOf = (name: string): string => name.replace(/-[0-9]+-14$/, '');
const series = new Map<string, { generated: Set<string> }>();
for (const f of files) series.set(seriesOf(f.name), { generated: new Set() });

beforeAll(async () => {
  kms = await startKmsUnderTest([...series.keys()]);
}, 60_000);

afterAll(async () => {
  await kms?.close();
  if (process.env['KMIP_CONFORMANCE_REPORT'] === '1') {
    for (const [name, r] of results) {
      process.stdout.write(`${r.ok ? 'PASS' : 'FAIL'} ${name}\n`);
      for (const s of r.steps) for (const d of s.diffs.slice(0, 6)) process.stdout.write(`    step ${s.step} ${s.operations.join('+')}: ${d}\n`);
    }
  }
});

function explain(r: ReplayResult): string {
  return r.steps
    .filter((s) => s.diffs.length > 0)
    .map((s) => `step ${s.step} (${s.operations.join(', ')}):\n  ${s.diffs.slice(0, 8).join('\n  ')}`)
    .join('\n');
}

describe('OASIS KMIP 1.4 profile test cases against vmcrypt kms serve', () => {
  for (const f of files) {
    const reason = expectedFailures.get(f.name);
    const title = `${profileOf(f.name)}: ${f.name}${reason === undefined ? '' : ` — expected to fail: ${reason}`}`;
    (reason === undefined ? it : it.fails)(title, async () => {
      const conn = await kms.connect(seriesOf(f.name));
      let r: ReplayResult;
      try {
        r = await replayFile(f.path, (b) => conn.exchange(b), { label: f.name, generated: series.get(seriesOf(f.name))?.generated ?? new Set() });
      } finally {
        conn.close();
      }
      results.set(f.name, r);
      expect(r.ok, explain(r)).toBe(true);
    });
  }
});
