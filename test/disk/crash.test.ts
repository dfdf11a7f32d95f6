import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { vmcryptArgv } from '../helpers/cli.js';
import { decryptDisk, encryptDisk } from '../../src/disk/index.js';
import { DiskError } from '../../src/disk/errors.js';
import { makeKey, makeRaw, qemuSame, sha256File, tempDir, type KeyPair } from './helpers.js';

// kill -9 of the bulk process at random moments: afterwards the disk is either the old one or
// the new one, complete and readable, never a mix; the next run cleans the temp file and says so.
// (scripts/crash-loop-disk.ts runs the same check in a long loop.)
const TRIALS = 3;
const { dir, cleanup } = tempDir('vmcrypt-disk-crash-');
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

/** Runs the CLI and SIGKILLs it after `ms` (or lets it finish first). Resolves with its stderr. */
function runAndKill(args: string[], ms: number): Promise<{ killed: boolean; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...vmcryptArgv(), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (_code, signal) => {
      clearTimeout(t);
      resolve({ killed: signal === 'SIGKILL', stderr });
    });
  });
}

function temps(): string[] {
  return readdirSync(dir).filter((n) => n.includes('.vmcrypt-tmp-'));
}

/** Which key opens `file`, checking its plaintext equals the raw image. */
async function openingKey(file: string): Promise<KeyPair> {
  for (const k of [k1, k2]) {
    const out = join(dir, 'check.raw');
    rmSync(out, { force: true });
    try {
      await decryptDisk({ src: file, dst: out, dek: k.dek });
    } catch (err) {
      if (err instanceof DiskError && err.code === 'WRONG_KEY') continue;
      throw err;
    }
    expect(sha256File(out)).toBe(rawSum);
    rmSync(out);
    return k;
  }
  throw new Error(`${file} opens with neither key`);
}

const delay = (): number => 150 + Math.floor(Math.random() * 2500);

describe('crash safety (kill -9)', () => {
  it(`encrypt: the destination is absent or complete (${TRIALS} random kills)`, async () => {
    for (let i = 0; i < TRIALS; i++) {
      const dst = join(dir, `enc-${i}.luks`);
      await runAndKill(['disk', 'encrypt', raw, dst, '--key-file', k1.file], delay());
      if (existsSync(dst)) expect(await qemuSame(dst, k1, raw)).toBe(true);
      else {
        const hadTemp = temps().length > 0;
        const done = await runAndKill(['disk', 'encrypt', raw, dst, '--key-file', k1.file], 120_000);
        expect(done.killed).toBe(false);
        if (hadTemp) expect(done.stderr).toMatch(/removed stale temporary file/);
        expect(await qemuSame(dst, k1, raw)).toBe(true);
      }
      expect(temps()).toEqual([]);
      rmSync(dst);
    }
  });

  it(`deep rekey: the disk opens with the old or the new key, same data (${TRIALS} random kills)`, async () => {
    const file = join(dir, 'deep.luks');
    await encryptDisk({ src: raw, dst: file, dek: k1.dek });
    let current = k1;
    for (let i = 0; i < TRIALS; i++) {
      const next = current === k1 ? k2 : k1;
      const before = sha256File(file);
      await runAndKill(['disk', 'rekey', file, '--key-file', current.file, '--new-key-file', next.file, '--deep'], delay());
      const opened = await openingKey(file);
      if (opened === current) expect(sha256File(file)).toBe(before); // old disk byte-for-byte intact
      current = opened;
    }
    // A clean run afterwards removes what the kills left behind.
    const next = current === k1 ? k2 : k1;
    const hadTemp = temps().length > 0;
    const done = await runAndKill(['disk', 'rekey', file, '--key-file', current.file, '--new-key-file', next.file, '--deep'], 120_000);
    expect(done.killed).toBe(false);
    if (hadTemp) expect(done.stderr).toMatch(/removed stale temporary file/);
    expect(temps()).toEqual([]);
    expect(await openingKey(file)).toBe(next);
  });

  it('shallow rekey killed at any point leaves a disk one of the two keys opens', async () => {
    const file = join(dir, 'shallow.luks');
    copyFileSync(raw, join(dir, 'raw-copy.img'));
    await encryptDisk({ src: raw, dst: file, dek: k1.dek });
    let current = k1;
    for (let i = 0; i < TRIALS; i++) {
      const next = current === k1 ? k2 : k1;
      await runAndKill(['disk', 'rekey', file, '--key-file', current.file, '--new-key-file', next.file], 100 + Math.floor(Math.random() * 1500));
      current = await openingKey(file);
    }
  });
});
