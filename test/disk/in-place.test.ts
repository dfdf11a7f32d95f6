import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { vmcryptArgv } from '../helpers/cli.js';
import { join } from 'node:path';
import {
  DiskError, type DiskProgress, checkDiskKey, decryptDisk, decryptDiskInPlace, diskInfo, encryptDisk, encryptDiskInPlace, rekeyDiskInPlace,
} from '../../src/disk/index.js';
import { sidecarPathFor } from '../../src/disk/inplace/sidecar.js';
import { makeKey, makeRaw, qemuSame, run, secretObj, luksOpts, sha256File, tempDir, type KeyPair } from './helpers.js';
import { luksDump, qemuLuksInfo, stopAt } from './in-place-helpers.js';

const MIB = 40;
const { dir, cleanup } = tempDir('vmcrypt-disk-inplace-');
let k1: KeyPair;
let k2: KeyPair;
const raw = join(dir, 'raw.img');
let rawSum = '';

beforeAll(() => {
  k1 = makeKey(dir, 'k1');
  k2 = makeKey(dir, 'k2');
  makeRaw(raw, MIB);
  rawSum = sha256File(raw);
});
afterAll(cleanup);

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...vmcryptArgv(), 'disk', ...args], (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DiskError) return `${err.code}: ${err.message}`;
    return `other: ${String(err)}`;
  }
  return 'resolved';
}

describe('in-place encrypt, deep rekey, decrypt (read by qemu-img, qemu-io, cryptsetup)', () => {
  it('round trip raw → LUKS (4096) → LUKS (8192) → LUKS (4096) → raw, byte-identical', async () => {
    const file = join(dir, 'trip.img');
    copyFileSync(raw, file);
    const enc = await encryptDiskInPlace({ path: file, dek: k1.dek });
    expect(enc).toMatchObject({ resumed: false, aborted: false, payloadOffsetBytes: 4096 * 512 });
    expect(statSync(file).size).toBe(MIB * 2 ** 20 + 4096 * 512);
    expect(existsSync(sidecarPathFor(file))).toBe(false);
    expect(await qemuSame(file, k1, raw)).toBe(true);
    expect((await luksDump(file)).text).toMatch(/Payload offset:\s*4096/);
    // qemu-io reads the all-zero stretch makeRaw leaves in the second quarter as zeros.
    const { stdout } = await run('qemu-io', [...secretObj(k1), '--image-opts', luksOpts(file), '-c', `read -P 0 ${(MIB / 4) << 20} ${(MIB / 4) << 20}`]);
    expect(stdout).toMatch(/read \d+\/\d+ bytes/);

    const deep = await rekeyDiskInPlace({ path: file, oldDek: k1.dek, newDek: k2.dek });
    expect(deep.payloadOffsetBytes).toBe(8192 * 512);
    expect((await luksDump(file)).text).toMatch(/Payload offset:\s*8192/);
    expect((await diskInfo(file)).keyslots.filter((k) => k.active)).toHaveLength(1);
    expect(await qemuSame(file, k2, raw)).toBe(true);
    expect(await code(checkDiskKey(file, k1.dek))).toMatch(/^WRONG_KEY/);

    const back = await rekeyDiskInPlace({ path: file, oldDek: k2.dek, newDek: k1.dek });
    expect(back.payloadOffsetBytes).toBe(4096 * 512);
    expect((await luksDump(file)).text).toMatch(/Payload offset:\s*4096/);
    expect(await qemuSame(file, k1, raw)).toBe(true);

    await decryptDiskInPlace({ path: file, dek: k1.dek });
    expect(sha256File(file)).toBe(rawSum);
  });

  it('decrypts in place what qemu-img convert wrote (payload offset 4040) and rekeys it', async () => {
    const file = join(dir, 'qemu.luks');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'luks', ...secretObj(k1), '-o', 'key-secret=s0,iter-time=10', raw, file]);
    const r = await rekeyDiskInPlace({ path: file, oldDek: k1.dek, newDek: k2.dek });
    expect(r.payloadOffsetBytes).toBe(8192 * 512);
    expect(await qemuSame(file, k2, raw)).toBe(true);
    await decryptDiskInPlace({ path: file, dek: k2.dek });
    expect(sha256File(file)).toBe(rawSum);
  });

  for (const op of ['encrypt', 'rekey', 'decrypt'] as const) {
    it(`${op}: a half-done disk is refused by qemu-img, cryptsetup and our opener; rerunning finishes it`, async () => {
      const file = join(dir, `half-${op}.img`);
      if (op === 'encrypt') copyFileSync(raw, file);
      else await encryptDisk({ src: raw, dst: file, dek: k1.dek });
      const go = (stop?: (p: DiskProgress) => void) =>
        op === 'encrypt' ? encryptDiskInPlace({ path: file, dek: k1.dek, ...(stop ? { onProgress: stop } : {}) })
          : op === 'decrypt' ? decryptDiskInPlace({ path: file, dek: k1.dek, ...(stop ? { onProgress: stop } : {}) })
            : rekeyDiskInPlace({ path: file, oldDek: k1.dek, newDek: k2.dek, ...(stop ? { onProgress: stop } : {}) });
      expect(await code(go(stopAt(0.5)))).toMatch(/stopped on purpose/);
      expect(existsSync(sidecarPathFor(file))).toBe(true);

      const q = await qemuLuksInfo(file, op === 'encrypt' ? k1.secret : k1.secret);
      expect(q.ok).toBe(false);
      expect(q.text).toMatch(/not in LUKS format/i);
      const c = await luksDump(file);
      expect(c.ok).toBe(false);
      expect(c.text).toMatch(/not a valid LUKS device/i);
      const ours = await code(diskInfo(file));
      expect(ours).toMatch(/^DISK_IN_PLACE_UNFINISHED/);
      expect(ours).toContain(`vmcrypt disk ${op}`);
      expect(ours).toContain('--in-place');
      // The copy modes refuse it too (they would read a mix).
      expect(await code(decryptDisk({ src: file, dst: join(dir, `x-${op}.raw`), dek: k1.dek }))).toMatch(/^DISK_IN_PLACE_UNFINISHED/);
      expect(await code(encryptDisk({ src: file, dst: join(dir, `x-${op}.luks`), dek: k1.dek }))).toMatch(/^DISK_IN_PLACE_UNFINISHED/);
      // Another in-place operation than the interrupted one is refused with the command to rerun.
      if (op !== 'decrypt') expect(await code(decryptDiskInPlace({ path: file, dek: k1.dek }))).toMatch(new RegExp(`DISK_IN_PLACE_UNFINISHED.*disk ${op}`));

      const notices: string[] = [];
      const done = op === 'encrypt' ? await encryptDiskInPlace({ path: file, dek: k1.dek, onNotice: (m) => notices.push(m) })
        : op === 'decrypt' ? await decryptDiskInPlace({ path: file, dek: k1.dek, onNotice: (m) => notices.push(m) })
          : await rekeyDiskInPlace({ path: file, oldDek: k1.dek, newDek: k2.dek, onNotice: (m) => notices.push(m) });
      expect(done.resumed).toBe(true);
      expect(notices.join('\n')).toMatch(/resuming the interrupted in-place/);
      expect(existsSync(sidecarPathFor(file))).toBe(false);
      if (op === 'decrypt') expect(sha256File(file)).toBe(rawSum);
      else expect(await qemuSame(file, op === 'rekey' ? k2 : k1, raw)).toBe(true);
    });

    it(`${op}: --abort rolls a half-done run back to the original bytes`, async () => {
      const file = join(dir, `abort-${op}.img`);
      if (op === 'encrypt') copyFileSync(raw, file);
      else await encryptDisk({ src: raw, dst: file, dek: k1.dek });
      const before = sha256File(file);
      const stop = { onProgress: stopAt(0.4) };
      const go = (extra: object) =>
        op === 'encrypt' ? encryptDiskInPlace({ path: file, dek: k1.dek, ...extra })
          : op === 'decrypt' ? decryptDiskInPlace({ path: file, dek: k1.dek, ...extra })
            : rekeyDiskInPlace({ path: file, oldDek: k1.dek, newDek: k2.dek, ...extra });
      expect(await code(go(stop))).toMatch(/stopped on purpose/);
      // An abort interrupted half-way is itself resumed by the next --abort.
      expect(await code(go({ abort: true, onProgress: stopAt(0.5) }))).toMatch(/stopped on purpose/);
      expect(await code(go({}))).toMatch(/DISK_IN_PLACE_UNFINISHED.*--abort/);
      const r = (await go({ abort: true })) as { aborted: boolean };
      expect(r.aborted).toBe(true);
      expect(sha256File(file)).toBe(before);
      expect(existsSync(sidecarPathFor(file))).toBe(false);
      expect(await code(go({ abort: true }))).toMatch(/^DISK_IN_PLACE_STATE: nothing to abort/);
    });
  }

  it('CLI: --in-place --json, a finished encrypt is not encrypted twice, disk info names the command to rerun', async () => {
    const file = join(dir, 'cli.img');
    copyFileSync(raw, file);
    let r = await cli('encrypt', file, '--in-place', '--key-file', k1.file, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, inPlace: true, resumed: false, aborted: false, payloadOffsetBytes: 2 << 20 });
    expect(r.stdout + r.stderr).not.toContain(k1.dek.toString('hex'));
    r = await cli('encrypt', file, '--in-place', '--key-file', k1.file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already is a LUKS disk.*DISK_BAD_INPUT/);
    r = await cli('rekey', file, '--key-file', k1.file, '--new-key-file', k2.file, '--in-place');
    expect(r.code).toBe(2); // --in-place needs --deep
    expect(await code(rekeyDiskInPlace({ path: file, oldDek: k1.dek, newDek: k2.dek, onProgress: stopAt(0.5) }))).toMatch(/stopped/);
    r = await cli('info', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/vmcrypt disk rekey FILE --key-file OLD --new-key-file NEW --deep --in-place.*DISK_IN_PLACE_UNFINISHED/s);
    r = await cli('rekey', file, '--key-file', k1.file, '--new-key-file', k2.file, '--deep', '--in-place', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, resumed: true, payloadOffsetBytes: 8192 * 512, mode: 'deep' });
    expect(await qemuSame(file, k2, raw)).toBe(true);
  });

  it('a wrong key on resume is WRONG_KEY and changes nothing', async () => {
    const file = join(dir, 'wrongkey.img');
    copyFileSync(raw, file);
    expect(await code(encryptDiskInPlace({ path: file, dek: k1.dek, onProgress: stopAt(0.3) }))).toMatch(/stopped/);
    const sum = sha256File(file);
    expect(await code(encryptDiskInPlace({ path: file, dek: k2.dek }))).toMatch(/^WRONG_KEY/);
    expect(sha256File(file)).toBe(sum);
    await encryptDiskInPlace({ path: file, dek: k1.dek });
    expect(await qemuSame(file, k1, raw)).toBe(true);
  });
});
