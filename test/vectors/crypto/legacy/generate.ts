// One-off generator of the legacy fixtures, run with the code as it was before the one sealing
// primitive (npx tsx test/vectors/crypto/legacy/generate.ts). Kept in git history only.
import { open, readFile, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { wrapDek, unwrapDek } from '../../../../src/crypto/wrap.js';
import { encodeVmx, parseVmx, openVmx } from '../../../../src/host/vm-files/vmx.js';
import { writeNvram, readNvram } from '../../../../src/host/vm-files/nvram.js';
import { VmLog, decodeVmLog } from '../../../../src/host/vm-files/vm-log.js';
import { SealedStreamWriter, openSealedFile } from '../../../../src/host/keys/sealed-stream.js';
import { KeySealer } from '../../../../src/kms/seal.js';
import { sealPrivateKey, openPrivateKey } from '../../../../src/pki/seal.js';
import { createCa } from '../../../../src/pki/index.js';

const dir = new URL('.', import.meta.url).pathname;
const key = (b: number): Buffer => Buffer.alloc(32, b);
const kek = key(0x11), vmDek = key(0x22), hostKey = key(0x33), masterKey = key(0x44), other = key(0x55);
const keyId = 'kek-0001', uuid = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';

function codeOf(fn: () => unknown): string {
  try { fn(); } catch (err) { return (err as { code: string }).code; }
  return 'NO_ERROR';
}
async function codeOfAsync(fn: () => Promise<unknown>): Promise<string> {
  try { await fn(); } catch (err) { return (err as { code: string }).code; }
  return 'NO_ERROR';
}
const flip = (b: Buffer, i: number): Buffer => { const c = Buffer.from(b); c[i] = c[i]! ^ 0x01; return c; };

const out: Record<string, unknown> = {
  keys: { kek: kek.toString('hex'), vmDek: vmDek.toString('hex'), hostKey: hostKey.toString('hex'), masterKey: masterKey.toString('hex'), other: other.toString('hex') },
  keyId, uuid,
};

// 1. KEK-wrapped DEK as in a .vmx keySafe.
const wrapped = wrapDek(kek, vmDek, keyId);
const wrawTampered = Buffer.from(wrapped.slice('v1:aes256gcm:'.length), 'base64');
const wrappedTampered = 'v1:aes256gcm:' + flip(wrawTampered, 40).toString('base64');
out['wrap'] = {
  wrapped, wrappedTampered,
  codes: { wrongKey: codeOf(() => unwrapDek(other, wrapped, keyId)), tampered: codeOf(() => unwrapDek(kek, wrappedTampered, keyId)), otherKeyId: codeOf(() => unwrapDek(kek, wrapped, 'kek-0002')) },
};

// 2. The .vmx with its encrypted section.
const config = { memoryMiB: 64, disks: [{ id: 'disk-0', sizeBytes: 1048576, layers: [{ file: 'disk-0.luks', format: 'luks' as const, wrappedDek: wrapDek(kek, key(0x66), keyId) }] }], snapshots: [], nvram: 'vm.nvram', log: 'vm.log', serialPorts: 0, parallelPorts: 0 };
const vmxText = encodeVmx({ format: 'vmcrypt-vmx/1', name: 'legacy-vm', uuid, createdAt: '2024-01-01T00:00:00.000Z', storagePolicy: 'VM Encryption Policy', keySafe: { providerId: 'kp-1', keyId, wrappedDek: wrapped } }, config, vmDek);
await writeFile(join(dir, 'vm.vmx'), vmxText);
const doc = parseVmx(vmxText, 'vm.vmx');
const sec = Buffer.from(doc.encrypted!, 'base64');
const vmxTampered = { ...doc, encrypted: flip(sec, sec.length - 20).toString('base64') };
out['vmx'] = {
  file: 'vm.vmx',
  codes: {
    tampered: codeOf(() => openVmx(vmxTampered, kek, 'vm.vmx')),
    otherUuid: codeOf(() => openVmx({ ...doc, uuid: '00000000-0000-4000-8000-000000000000' }, kek, 'vm.vmx')),
    wrongKek: codeOf(() => openVmx(doc, other, 'vm.vmx')),
  },
};

// 3. NVRAM.
const nvram = Buffer.alloc(4096);
for (let i = 0; i < nvram.length; i++) nvram[i] = i & 0xff;
await writeNvram(join(dir, 'vm.nvram'), uuid, nvram, vmDek);
const nvSealed = await readFile(join(dir, 'vm.nvram'));
await writeFile(join(dir, 'vm.nvram.tampered'), flip(nvSealed, 100));
out['nvram'] = {
  file: 'vm.nvram', tamperedFile: 'vm.nvram.tampered', plainSha256: (await import('node:crypto')).createHash('sha256').update(nvram).digest('hex'),
  codes: {
    tampered: await codeOfAsync(() => readNvram(join(dir, 'vm.nvram.tampered'), uuid, vmDek)),
    wrongKey: await codeOfAsync(() => readNvram(join(dir, 'vm.nvram'), uuid, other)),
    otherUuid: await codeOfAsync(() => readNvram(join(dir, 'vm.nvram'), '00000000-0000-4000-8000-000000000000', vmDek)),
  },
};

// 4. VM log records.
await rm(join(dir, 'vm.log'), { force: true });
const log = await VmLog.open(join(dir, 'vm.log'), uuid, vmDek);
for (const l of ['powered on', 'snapshot taken', 'powered off']) await log.append(l);
await log.close();
const logBytes = await readFile(join(dir, 'vm.log'));
const lines = decodeVmLog(logBytes, uuid, vmDek);
const logTampered = flip(logBytes, 4 + 40);
await writeFile(join(dir, 'vm.log.tampered'), logTampered);
out['vmLog'] = {
  file: 'vm.log', tamperedFile: 'vm.log.tampered', lines,
  codes: {
    tampered: codeOf(() => decodeVmLog(logTampered, uuid, vmDek)),
    wrongKey: codeOf(() => decodeVmLog(logBytes, uuid, other)),
    otherUuid: codeOf(() => decodeVmLog(logBytes, '00000000-0000-4000-8000-000000000000', vmDek)),
  },
};

// 5. Sealed core dump stream.
const dumpPath = join(dir, 'core.vmdump');
await rm(dumpPath, { force: true });
const dumpPlain = Buffer.from(JSON.stringify({ reason: 'legacy fixture', report: { lines: Array.from({ length: 50 }, (_, i) => `frame ${i}`) } }));
const fh = await open(dumpPath, 'wx', 0o600);
const w = await SealedStreamWriter.start(fh, hostKey, { kind: 'coredump', keyId: 'host-key-1', host: 'esx-1', reason: 'legacy fixture', createdAt: '2024-01-01T00:00:00.000Z' });
await w.write(dumpPlain);
await w.finish();
await fh.close();
const dumpBytes = await readFile(dumpPath);
await writeFile(join(dir, 'core.vmdump.tampered'), flip(dumpBytes, dumpBytes.length - 30));
await writeFile(join(dir, 'core.vmdump.truncated'), dumpBytes.subarray(0, dumpBytes.length - 1));
const sink = async (): Promise<void> => undefined;
out['sealedStream'] = {
  file: 'core.vmdump', tamperedFile: 'core.vmdump.tampered', truncatedFile: 'core.vmdump.truncated', plain: dumpPlain.toString('utf8'),
  codes: {
    tampered: await codeOfAsync(() => openSealedFile(join(dir, 'core.vmdump.tampered'), hostKey, sink)),
    truncated: await codeOfAsync(() => openSealedFile(join(dir, 'core.vmdump.truncated'), hostKey, sink)),
    wrongKey: await codeOfAsync(() => openSealedFile(dumpPath, other, sink)),
  },
};

// 6. KMS sealed key material.
const sealer = new KeySealer(masterKey);
const material = key(0x77);
const kmsBlob = sealer.seal('obj-42', material);
out['kmsKeyMaterial'] = {
  objectId: 'obj-42', material: material.toString('hex'), sealed: kmsBlob.toString('hex'), tampered: flip(kmsBlob, 20).toString('hex'),
  codes: {
    tampered: codeOf(() => sealer.unseal('obj-42', flip(kmsBlob, 20))),
    otherObject: codeOf(() => sealer.unseal('obj-43', kmsBlob)),
    wrongKey: codeOf(() => new KeySealer(other).unseal('obj-42', kmsBlob)),
  },
};

// 7. pki sealed private key.
const { keyPem } = await createCa({ commonName: 'legacy fixture' });
const pkiSealed = sealPrivateKey(keyPem, masterKey, 'kp-1');
const pkiTampered = flip(Buffer.from(pkiSealed, 'base64'), 30).toString('base64');
out['pkiPrivateKey'] = {
  context: 'kp-1', keyPem, sealed: pkiSealed, tampered: pkiTampered,
  codes: {
    tampered: codeOf(() => openPrivateKey(pkiTampered, masterKey, 'kp-1')),
    otherContext: codeOf(() => openPrivateKey(pkiSealed, masterKey, 'kp-2')),
    wrongKey: codeOf(() => openPrivateKey(pkiSealed, other, 'kp-1')),
  },
};

// Sanity: the current code opens what it wrote.
unwrapDek(kek, wrapped, keyId).fill(0);
openVmx(doc, kek, 'vm.vmx').vmDek.fill(0);
(await readNvram(join(dir, 'vm.nvram'), uuid, vmDek)).fill(0);
await openSealedFile(dumpPath, hostKey, sink);
sealer.unseal('obj-42', kmsBlob).fill(0);
openPrivateKey(pkiSealed, masterKey, 'kp-1');

await writeFile(join(dir, 'legacy.json'), JSON.stringify(out, null, 2) + '\n');
console.log(JSON.stringify(Object.fromEntries(Object.entries(out).filter(([, v]) => typeof v === 'object').map(([k, v]) => [k, (v as { codes?: unknown }).codes])), null, 1));
