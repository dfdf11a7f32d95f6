import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrapDek, wrapDek, WRAP_PREFIX } from '../../src/crypto/wrap.js';
import { encodeVmx, parseVmx, openVmx } from '../../src/host/vm-files/vmx.js';
import { readNvram } from '../../src/host/vm-files/nvram.js';
import { decodeVmLog, VmLog } from '../../src/host/vm-files/vm-log.js';
import { openSealedFile, readSealedHeader, SEALED_MAGIC } from '../../src/host/keys/sealed-stream.js';
import { recryptCoreDump } from '../../src/host/keys/coredump.js';
import { KeySealer } from '../../src/kms/key-material-seal.js';
import { openPrivateKey } from '../../src/pki/private-key-seal.js';

/**
 * Files and blobs written by the code before the one sealing primitive (fixtures made by
 * that code, test/vectors/crypto/legacy/, commit 61fc4fb). The new code must open each one,
 * and refuse a wrong key, a changed byte or a wrong binding with the error codes the old code
 * gave (recorded beside each fixture when it was made).
 */
const dir = new URL('../vectors/crypto/legacy/', import.meta.url).pathname;
interface Codes { readonly [what: string]: string }
const L = JSON.parse(await readFile(join(dir, 'legacy.json'), 'utf8')) as Record<string, any>;
const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const kek = hex(L['keys'].kek), vmDek = hex(L['keys'].vmDek), hostKey = hex(L['keys'].hostKey), masterKey = hex(L['keys'].masterKey), other = hex(L['keys'].other);
const uuid: string = L['uuid'], keyId: string = L['keyId'];
const otherUuid = '00000000-0000-4000-8000-000000000000';

async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'NO_ERROR';
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'vmcrypt-legacy-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('legacy formats still open, and fail as they did', () => {
  it('KEK-wrapped DEK (keySafe, v1:aes256gcm)', async () => {
    const w = L['wrap'] as { wrapped: string; wrappedTampered: string; codes: Codes };
    expect(unwrapDek(kek, w.wrapped, keyId).equals(vmDek)).toBe(true);
    expect(await codeOf(() => unwrapDek(other, w.wrapped, keyId))).toBe(w.codes['wrongKey']);
    expect(await codeOf(() => unwrapDek(kek, w.wrappedTampered, keyId))).toBe(w.codes['tampered']);
    expect(await codeOf(() => unwrapDek(kek, w.wrapped, 'kek-0002'))).toBe(w.codes['otherKeyId']);
    expect(wrapDek(kek, vmDek, keyId).startsWith(WRAP_PREFIX)).toBe(true);
  });

  it('.vmx encrypted section, and a rewrite moves it to the new format', async () => {
    const c = L['vmx'].codes as Codes;
    const doc = parseVmx(await readFile(join(dir, 'vm.vmx'), 'utf8'), 'vm.vmx');
    const { config, vmDek: dek } = openVmx(doc, kek, 'vm.vmx');
    expect(dek.equals(vmDek)).toBe(true);
    expect(config.disks[0]?.layers[0]?.file).toBe('disk-0.luks');
    const sec = Buffer.from(doc.encrypted!, 'base64');
    sec[sec.length - 20] = sec[sec.length - 20]! ^ 0x01;
    expect(await codeOf(() => openVmx({ ...doc, encrypted: sec.toString('base64') }, kek, 'vm.vmx'))).toBe(c['tampered']);
    expect(await codeOf(() => openVmx({ ...doc, uuid: otherUuid }, kek, 'vm.vmx'))).toBe(c['otherUuid']);
    expect(await codeOf(() => openVmx(doc, other, 'vm.vmx'))).toBe(c['wrongKek']);
    const { encrypted: _e, ...clear } = doc;
    const rewritten = parseVmx(encodeVmx(clear, config, dek), 'vm.vmx');
    expect(Buffer.from(rewritten.encrypted!, 'base64')[4]).toBe(2);
    expect(openVmx(rewritten, kek, 'vm.vmx').config).toEqual(config);
    dek.fill(0);
  });

  it('NVRAM', async () => {
    const n = L['nvram'] as { file: string; tamperedFile: string; plainSha256: string; codes: Codes };
    const plain = await readNvram(join(dir, n.file), uuid, vmDek);
    expect(createHash('sha256').update(plain).digest('hex')).toBe(n.plainSha256);
    expect(await codeOf(() => readNvram(join(dir, n.tamperedFile), uuid, vmDek))).toBe(n.codes['tampered']);
    expect(await codeOf(() => readNvram(join(dir, n.file), uuid, other))).toBe(n.codes['wrongKey']);
    expect(await codeOf(() => readNvram(join(dir, n.file), otherUuid, vmDek))).toBe(n.codes['otherUuid']);
  });

  it('VM log records, and new records appended after old ones', async () => {
    const g = L['vmLog'] as { file: string; tamperedFile: string; lines: string[]; codes: Codes };
    const data = await readFile(join(dir, g.file));
    expect(decodeVmLog(data, uuid, vmDek)).toEqual(g.lines);
    expect(await codeOf(async () => decodeVmLog(await readFile(join(dir, g.tamperedFile)), uuid, vmDek))).toBe(g.codes['tampered']);
    expect(await codeOf(() => decodeVmLog(data, uuid, other))).toBe(g.codes['wrongKey']);
    expect(await codeOf(() => decodeVmLog(data, otherUuid, vmDek))).toBe(g.codes['otherUuid']);
    const mixed = join(tmp, 'mixed.log');
    await copyFile(join(dir, g.file), mixed);
    const log = await VmLog.open(mixed, uuid, vmDek);
    await log.append('resumed after upgrade');
    await log.close();
    const lines = decodeVmLog(await readFile(mixed), uuid, vmDek);
    expect(lines.slice(0, 3)).toEqual(g.lines);
    expect(lines[3]).toMatch(/ resumed after upgrade$/);
  });

  it('sealed core dump stream (VMCRYPT-SEALED/1), and a recrypt moves it to the new format', async () => {
    const s = L['sealedStream'] as { file: string; tamperedFile: string; truncatedFile: string; plain: string; codes: Codes };
    const read = async (path: string, key: Buffer): Promise<string> => {
      const parts: Buffer[] = [];
      await openSealedFile(path, key, async (p) => void parts.push(Buffer.from(p)));
      return Buffer.concat(parts).toString('utf8');
    };
    expect(await read(join(dir, s.file), hostKey)).toBe(s.plain);
    expect(await codeOf(() => read(join(dir, s.tamperedFile), hostKey))).toBe(s.codes['tampered']);
    expect(await codeOf(() => read(join(dir, s.truncatedFile), hostKey))).toBe(s.codes['truncated']);
    expect(await codeOf(() => read(join(dir, s.file), other))).toBe(s.codes['wrongKey']);
    const copy = join(tmp, 'core.vmdump');
    await copyFile(join(dir, s.file), copy);
    await recryptCoreDump(copy, hostKey, other, 'host-key-2');
    expect((await readFile(copy)).subarray(0, SEALED_MAGIC.length).toString()).toBe(SEALED_MAGIC);
    expect((await readSealedHeader(copy)).legacy).toBe(false);
    expect(await read(copy, other)).toBe(s.plain);
  });

  it('KMS sealed key material (0x01 | nonce | tag | ciphertext)', async () => {
    const k = L['kmsKeyMaterial'] as { objectId: string; material: string; sealed: string; tampered: string; codes: Codes };
    const sealer = new KeySealer(masterKey);
    expect(sealer.unseal(k.objectId, hex(k.sealed)).toString('hex')).toBe(k.material);
    expect(await codeOf(() => sealer.unseal(k.objectId, hex(k.tampered)))).toBe(k.codes['tampered']);
    expect(await codeOf(() => sealer.unseal('obj-43', hex(k.sealed)))).toBe(k.codes['otherObject']);
    expect(await codeOf(() => new KeySealer(other).unseal(k.objectId, hex(k.sealed)))).toBe(k.codes['wrongKey']);
    sealer.destroy();
  });

  it('PKI sealed private key (VPK)', async () => {
    const p = L['pkiPrivateKey'] as { context: string; keyPem: string; sealed: string; tampered: string; codes: Codes };
    expect(openPrivateKey(p.sealed, masterKey, p.context)).toBe(p.keyPem);
    expect(await codeOf(() => openPrivateKey(p.tampered, masterKey, p.context))).toBe(p.codes['tampered']);
    expect(await codeOf(() => openPrivateKey(p.sealed, masterKey, 'kp-2'))).toBe(p.codes['otherContext']);
    expect(await codeOf(() => openPrivateKey(p.sealed, other, p.context))).toBe(p.codes['wrongKey']);
  });
});
