import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { makeKey, makeRaw, sha256File, tempDir, type KeyPair } from './helpers.js';
import { crashRound, type CrashOp } from './in-place-crash-lib.js';

// kill -9 of `vmcrypt disk … --in-place` at random moments (a handful here; the long loop is
// scripts/crash-loop-disk-inplace.ts): after every kill no key opens the file with other data
// than the original, and rerunning the same command finishes it with the data byte-identical.
const ROUNDS = 2;
const { dir, cleanup } = tempDir('vmcrypt-disk-inplace-crash-');
let k1: KeyPair;
let k2: KeyPair;
const raw = join(dir, 'raw.img');
let rawSum = '';

beforeAll(() => {
  k1 = makeKey(dir, 'k1');
  k2 = makeKey(dir, 'k2');
  makeRaw(raw, 48);
  rawSum = sha256File(raw);
});
afterAll(cleanup);

describe('in-place crash safety (kill -9)', () => {
  for (const op of ['encrypt', 'rekey', 'decrypt'] as CrashOp[]) {
    it(`${op}: ${ROUNDS} rounds of random kills, then a rerun finishes byte-identical`, async () => {
      for (let i = 0; i < ROUNDS; i++) {
        // Kills within 100 ms of the sidecar appearing: the whole run of 48 MiB takes ~0.1 s now on a quiet
        // machine (more when loaded), so a wider window would mostly hit finished runs.
        const log = await crashRound({ op, file: join(dir, `${op}.img`), raw, rawSum, k1, k2 }, 2, 100);
        expect(log.length).toBeGreaterThan(0);
      }
    });
  }
});
