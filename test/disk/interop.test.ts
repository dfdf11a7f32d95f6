import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkDiskKey, cloneDisk, createEncryptedDisk, decryptDisk, diskInfo, encryptDisk, rekeyDisk } from '../../src/disk/index.js';
import { luksOpts, makeKey, makeRaw, qemuConvertToLuks, qemuSame, run, secretObj, sha256File, tempDir, type KeyPair } from './helpers.js';

// QEMU 7.2 (qemu-img, qemu-io) and cryptsetup are the oracles: our files must open there, and
// what qemu-img writes must open here.
const { dir, cleanup } = tempDir('vmcrypt-disk-interop-');
let k1: KeyPair;
let k2: KeyPair;
const raw = join(dir, 'raw.img');

beforeAll(() => {
  k1 = makeKey(dir, 'k1');
  k2 = makeKey(dir, 'k2');
  makeRaw(raw, 24);
});
afterAll(cleanup);

describe('LUKS1 interop with QEMU and cryptsetup', () => {
  it('creates a disk that cryptsetup luksDump, qemu-img and qemu-io accept', async () => {
    const file = join(dir, 'new.luks');
    const info = await createEncryptedDisk({ path: file, sizeBytes: 16 << 20, dek: k1.dek });
    expect(info.virtualSizeBytes).toBe(16 << 20);
    expect(info.payloadOffsetBytes).toBe(4096 * 512);
    expect(info.allocatedBytes).toBeLessThan(1 << 20); // payload left sparse

    const dump = (await run('cryptsetup', ['luksDump', file])).stdout;
    expect(dump).toMatch(/Version:\s+1/);
    expect(dump).toMatch(/Cipher name:\s+aes/);
    expect(dump).toMatch(/Cipher mode:\s+xts-plain64/);
    expect(dump).toMatch(/Hash spec:\s+sha256/);
    expect(dump).toMatch(/Payload offset:\s+4096/);
    expect(dump).toMatch(/MK bits:\s+512/);
    expect(dump).toMatch(/Key Slot 0: ENABLED[\s\S]*AF stripes:\s+4000/);
    expect(dump).toContain(info.uuid);
    await run('cryptsetup', ['luksOpen', '--test-passphrase', '--key-file', k1.secret, file]);

    const qinfo = (await run('qemu-img', ['info', ...secretObj(k1), '--image-opts', luksOpts(file)])).stdout;
    expect(qinfo).toMatch(/file format: luks/);
    expect(qinfo).toMatch(/virtual size: 16 MiB/);
    const io = await run('qemu-io', [...secretObj(k1), '--image-opts', luksOpts(file),
      '-c', 'write -P 0x5a 1M 2M', '-c', 'read -P 0x5a 1M 2M']);
    expect(io.stdout).not.toMatch(/Pattern verification failed/);
    // …and we read what QEMU wrote through our own decryptor.
    const out = join(dir, 'new.raw');
    await decryptDisk({ src: file, dst: out, dek: k1.dek });
    const plain = (await import('node:fs')).readFileSync(out);
    expect(plain.subarray(1 << 20, 3 << 20).every((b) => b === 0x5a)).toBe(true);
  });

  it('opens a LUKS1 header that cryptsetup luksFormat wrote', async () => {
    const file = join(dir, 'cs.luks');
    (await import('node:fs')).writeFileSync(file, '');
    (await import('node:fs')).truncateSync(file, 8 << 20);
    await run('cryptsetup', ['luksFormat', '-q', '--type', 'luks1', '--pbkdf-force-iterations', '1000', '--key-file', k1.secret, file]);
    expect((await diskInfo(file)).payloadOffsetBytes).toBe(4096 * 512);
    expect(await checkDiskKey(file, k1.dek)).toEqual({ slot: 0 });
    await expect(checkDiskKey(file, k2.dek)).rejects.toThrow(/wrong key/);
  });

  it('encrypt raw→LUKS: qemu-img compare finds the same data', async () => {
    const luks = join(dir, 'enc.luks');
    const r = await encryptDisk({ src: raw, dst: luks, dek: k1.dek });
    expect(r.bytes).toBe(24 << 20);
    expect(await qemuSame(luks, k1, raw)).toBe(true);
    expect(await qemuSame(luks, k2, raw)).toBe(false);
  });

  it('odd sizes (not a whole number of chunks) round-trip through QEMU', async () => {
    const odd = join(dir, 'odd.img');
    const data = (await import('node:crypto')).randomBytes((5 << 20) + 1536);
    (await import('node:fs')).writeFileSync(odd, data);
    const luks = join(dir, 'odd.luks');
    await encryptDisk({ src: odd, dst: luks, dek: k1.dek });
    expect((await diskInfo(luks)).virtualSizeBytes).toBe(data.length);
    expect(await qemuSame(luks, k1, odd)).toBe(true);
    const back = join(dir, 'odd.raw');
    await decryptDisk({ src: luks, dst: back, dek: k1.dek });
    expect(sha256File(back)).toBe(sha256File(odd));
  });

  it('decrypts what qemu-img convert wrote, keeping zero regions as holes', async () => {
    const qluks = join(dir, 'q.luks');
    await qemuConvertToLuks(raw, qluks, k1);
    const out = join(dir, 'q.raw');
    const r = await decryptDisk({ src: qluks, dst: out, dek: k1.dek });
    expect(sha256File(out)).toBe(sha256File(raw));
    expect(r.holeBytes).toBeGreaterThanOrEqual(6 << 20);
    expect(statSync(out).blocks * 512).toBeLessThan(statSync(raw).size - (5 << 20));
  });

  it('shallow rekey: new key opens in QEMU, old key no longer does, data untouched', async () => {
    const luks = join(dir, 'shallow.luks');
    await encryptDisk({ src: raw, dst: luks, dek: k1.dek });
    const before = (await diskInfo(luks)).uuid;
    await rekeyDisk({ path: luks, oldDek: k1.dek, newDek: k2.dek, mode: 'shallow' });
    const info = await diskInfo(luks);
    expect(info.uuid).toBe(before);
    expect(info.keyslots.filter((k) => k.active).map((k) => k.index)).toEqual([1]);
    expect(await qemuSame(luks, k2, raw)).toBe(true);
    await expect(run('qemu-io', [...secretObj(k1), '--image-opts', luksOpts(luks), '-c', 'read 0 4k'])).rejects.toThrow(/Invalid password|cannot unlock|No key slot/i);
    const dump = (await run('cryptsetup', ['luksDump', luks])).stdout;
    expect(dump).toMatch(/Key Slot 0: DISABLED/);
    expect(dump).toMatch(/Key Slot 1: ENABLED/);
    // and back again (slot 0 is free once more)
    await rekeyDisk({ path: luks, oldDek: k2.dek, newDek: k1.dek, mode: 'shallow' });
    expect(await qemuSame(luks, k1, raw)).toBe(true);
  });

  it('deep rekey of a QEMU-written disk: new master key, same data, QEMU opens it', async () => {
    const qluks = join(dir, 'deep.luks');
    await qemuConvertToLuks(raw, qluks, k1);
    const uuid = (await diskInfo(qluks)).uuid;
    const r = await rekeyDisk({ path: qluks, oldDek: k1.dek, newDek: k2.dek, mode: 'deep' });
    expect(r.bytes).toBe(24 << 20);
    expect((await diskInfo(qluks)).uuid).not.toBe(uuid);
    expect(await qemuSame(qluks, k2, raw)).toBe(true);
    expect(existsSync(qluks)).toBe(true);
  });

  it('clone: a copy under its own DEK and master key that QEMU opens; the origin is untouched', async () => {
    const origin = join(dir, 'origin.luks');
    await encryptDisk({ src: raw, dst: origin, dek: k1.dek });
    const sum = sha256File(origin);
    const clone = join(dir, 'clone.luks');
    await cloneDisk({ src: origin, dst: clone, oldDek: k1.dek, newDek: k2.dek });
    expect(await qemuSame(clone, k2, raw)).toBe(true);
    expect((await diskInfo(clone)).uuid).not.toBe((await diskInfo(origin)).uuid);
    expect(sha256File(origin)).toBe(sum);
    await expect(cloneDisk({ src: origin, dst: clone, oldDek: k1.dek, newDek: k2.dek })).rejects.toThrow(/already exists/);
  });
});
