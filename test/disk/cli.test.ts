import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vmcryptArgv } from '../helpers/cli.js';
import { parseSize } from '../../src/cli/commands/disk.js';
import { makeKey, makeRaw, qemuSame, sha256File, tempDir, type KeyPair } from './helpers.js';

const { dir, cleanup } = tempDir('vmcrypt-disk-cli-');
let k1: KeyPair;
let k2: KeyPair;
const raw = join(dir, 'raw.img');

beforeAll(() => {
  k1 = makeKey(dir, 'k1');
  k2 = makeKey(dir, 'k2');
  makeRaw(raw, 8);
});
afterAll(cleanup);

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...vmcryptArgv(), 'disk', ...args], (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

describe('vmcrypt disk CLI', () => {
  it('create, info, encrypt, rekey, decrypt; never prints key material', async () => {
    const created = join(dir, 'new.luks');
    let r = await cli('create', created, '--size', '16M', '--key-file', k1.file, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).virtualSizeBytes).toBe(16 << 20);

    r = await cli('info', created, '--json');
    const info = JSON.parse(r.stdout);
    expect(info.format).toBe('luks1');
    expect(info.keyslots[0].active).toBe(true);
    r = await cli('info', created);
    expect(r.stdout).toMatch(/keyslot 0:\s+ENABLED/);

    const luks = join(dir, 'enc.luks');
    r = await cli('encrypt', raw, luks, '--key-file', k1.file);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/encrypted .* 8\.0 MiB/);
    expect(await qemuSame(luks, k1, raw)).toBe(true);

    r = await cli('rekey', luks, '--key-file', k1.file, '--new-key-file', k2.file, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).mode).toBe('shallow');
    r = await cli('rekey', luks, '--key-file', k2.file, '--new-key-file', k1.file, '--deep', '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, mode: 'deep', bytes: 8 << 20 });

    const out = join(dir, 'out.raw');
    r = await cli('decrypt', luks, out, '--key-file', k1.file);
    expect(r.code).toBe(0);
    expect(sha256File(out)).toBe(sha256File(raw));

    for (const k of [k1, k2]) {
      const hex = k.dek.toString('hex');
      expect(r.stdout + r.stderr).not.toContain(hex);
    }
  });

  it('clear errors with stable codes and usage exit codes', async () => {
    let r = await cli('decrypt', join(dir, 'enc.luks'), join(dir, 'x.raw'), '--key-file', k2.file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/wrong key.*\[WRONG_KEY\]/);
    expect(r.stderr).not.toContain(k2.dek.toString('hex'));
    expect(existsSync(join(dir, 'x.raw'))).toBe(false);

    const bad = join(dir, 'bad.key');
    writeFileSync(bad, 'not-hex');
    r = await cli('create', join(dir, 'b.luks'), '--size', '1M', '--key-file', bad);
    expect(r.stderr).toMatch(/\[DISK_BAD_INPUT\]/);
    expect(r.stderr).not.toContain('not-hex');

    r = await cli('create', join(dir, 'b.luks'), '--size', '1M');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing --key-file/);
    r = await cli('info', raw);
    expect(r.stderr).toMatch(/\[DISK_NOT_LUKS\]/);
    r = await cli('frobnicate');
    expect(r.code).toBe(2);
  });

  it('parses sizes', () => {
    expect(parseSize('1M')).toBe(1 << 20);
    expect(parseSize('20G')).toBe(20 * 1024 ** 3);
    expect(parseSize('4096')).toBe(4096);
    expect(parseSize('2GiB')).toBe(2 * 1024 ** 3);
    expect(() => parseSize('1000')).toThrow(/multiple of 512/);
    expect(() => parseSize('lots')).toThrow(/invalid size/);
  });
});
