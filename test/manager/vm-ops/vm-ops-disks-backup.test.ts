import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { ManagerApi } from '../helpers/manager-api.js';
import {
  createVm, datastoreOf, eventsOf, guestDataIntact, lastEventId, PATTERNS, refusal, runTask, startLab, writeGuestData,
  type Lab, type VmJson,
} from './lab.js';

/**
 * Per-disk encryption (Enable-/Disable-VMDiskEncryption) and the backup export / restore,
 * end to end: a real KMS, manager and host agent; guest data written and read back through
 * QEMU (qemu-io), the files on the datastore read byte for byte.
 */
let lab: Lab;
let ds = '';
const api = () => lab.api();
const vmOf = (id: string) => api().get<VmJson>(`/api/vms/${id}`);
const MiB = 1 << 20;
const LUKS_MAGIC = Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]);
const PLAIN_RUN = Buffer.alloc(65536, 0x5a);

interface DiskInfo { id: string; encrypted: boolean; layers: Array<{ file: string; format: string; keyId?: string }> }
interface EncInfo { encrypted: boolean; keyId?: string; disks: DiskInfo[] }
const infoOf = (id: string) => api().get<EncInfo>(`/api/vms/${id}/encryption`);

async function poweredOn<T>(id: string, fn: () => Promise<T>): Promise<T> {
  await api().post(`/api/vms/${id}/power-on`);
  try {
    return await fn();
  } finally {
    await api().post(`/api/vms/${id}/power-off`);
  }
}

/** The bytes of a disk's (only) layer, as the host's .vmx names it. */
async function diskFile(vmId: string, diskId: string): Promise<{ name: string; bytes: Buffer }> {
  const dir = dirname((await vmOf(vmId)).vmxPath ?? '');
  const disk = (await infoOf(vmId)).disks.find((d) => d.id === diskId);
  const file = disk?.layers.at(-1)?.file;
  if (file === undefined) throw new Error(`no layer for ${diskId}`);
  const path = isAbsolute(file) ? file : join(dir, file);
  return { name: file, bytes: await readFile(path) };
}

/** Every file of a directory (the export, a VM's home). */
async function filesIn(dir: string): Promise<Array<{ name: string; bytes: Buffer }>> {
  return Promise.all((await readdir(dir)).map(async (name) => ({ name, bytes: await readFile(join(dir, name)) })));
}

const isLuks = (b: Buffer): boolean => b.subarray(0, 6).equals(LUKS_MAGIC);

/** The guest's patterns, found at their guest offsets in a raw (clear) disk image. */
function rawHoldsPatterns(raw: Buffer): boolean {
  const size = (s: string): number => (s.endsWith('m') ? Number(s.slice(0, -1)) * MiB : s.endsWith('k') ? Number(s.slice(0, -1)) * 1024 : Number(s));
  return PATTERNS.every((p) => raw.subarray(size(p.offset), size(p.offset) + size(p.len)).equals(Buffer.alloc(size(p.len), p.pattern)));
}

beforeAll(async () => {
  lab = await startLab('vmops-disks', 1);
  ds = await datastoreOf(api(), 'esx1-local');
  await api().post('/api/users', { name: 'carol', password: 'carol-password-1' });
  await api().call('PUT', '/api/permissions', { principal: 'carol', entity: { kind: 'root', id: 'root' }, role: 'No Cryptography Administrator' });
}, 180_000);

afterAll(async () => {
  await lab?.stop();
});

describe('per-disk encryption through the manager (Enable-/Disable-VMDiskEncryption)', () => {
  let vmId = '';

  it('refused while the VM home is not encrypted, with the rule named; nothing changes', async () => {
    vmId = await createVm(api(), { name: 'pd', hostId: lab.hosts[0]?.id ?? '', datastoreId: ds, disks: [4 * MiB, 4 * MiB] });
    await poweredOn(vmId, async () => {
      await writeGuestData(lab.host(0), vmId, 0);
      await writeGuestData(lab.host(0), vmId, 1);
    });
    const r = await refusal(api().post(`/api/vms/${vmId}/disks/disk1/policy`, { policyId: 'vm-encryption' }));
    expect(r).toMatchObject({ status: 409, code: 'MANAGER_CONFLICT' });
    expect(r.message).toMatch(/rule: disk-needs-encrypted-home/);
    expect(isLuks((await diskFile(vmId, 'disk1')).bytes)).toBe(false);
  });

  it('decrypts one disk of an encrypted VM: that file is clear, the other stays LUKS, the data is the same', async () => {
    const t = await runTask(api(), api().post(`/api/vms/${vmId}/policy`, { policyId: 'vm-encryption' }));
    expect(t.state, JSON.stringify(t.error)).toBe('success');
    expect(isLuks((await diskFile(vmId, 'disk1')).bytes)).toBe(true);

    const carol = await ManagerApi.login(lab.manager.url, lab.manager.thumbprint, 'carol', 'carol-password-1');
    expect((await refusal(carol.post(`/api/vms/${vmId}/disks/disk1/policy`, { policyId: 'datastore-default' }))).message).toMatch(/Cryptographer\.Decrypt/);

    const before = await lastEventId(api());
    const d = await runTask(api(), api().post(`/api/vms/${vmId}/disks/disk1/policy`, { policyId: 'datastore-default' }));
    expect(d.state, JSON.stringify(d.error)).toBe('success');
    expect((await eventsOf(api(), before, 'vm.disk.decrypted'))[0]?.severity).toBe('warning');
    const plain = await diskFile(vmId, 'disk1');
    expect(isLuks(plain.bytes)).toBe(false);
    expect(rawHoldsPatterns(plain.bytes)).toBe(true);
    const other = await diskFile(vmId, 'disk0');
    expect(isLuks(other.bytes)).toBe(true);
    expect(other.bytes.includes(PLAIN_RUN)).toBe(false);
    const info = await infoOf(vmId);
    expect(info.encrypted).toBe(true);
    expect(info.disks.map((x) => [x.id, x.encrypted])).toEqual([['disk0', true], ['disk1', false]]);
    expect(await poweredOn(vmId, async () => (await guestDataIntact(lab.host(0), vmId, 0)) && guestDataIntact(lab.host(0), vmId, 1))).toBe(true);
  });

  it('encrypts that disk again: LUKS with no clear run left, under the VM\'s key, the data the same', async () => {
    const carol = await ManagerApi.login(lab.manager.url, lab.manager.thumbprint, 'carol', 'carol-password-1');
    expect((await refusal(carol.post(`/api/vms/${vmId}/disks/disk1/policy`, { policyId: 'vm-encryption' }))).message).toMatch(/Cryptographer\.Encrypt/);
    await api().post(`/api/vms/${vmId}/power-on`);
    expect((await refusal(api().post(`/api/vms/${vmId}/disks/disk1/policy`, { policyId: 'vm-encryption' }))).message).toMatch(/rule: vm-powered-off/);
    await api().post(`/api/vms/${vmId}/power-off`);

    const before = await lastEventId(api());
    const t = await runTask(api(), api().post(`/api/vms/${vmId}/disks/disk1/policy`, { policyId: 'vm-encryption' }));
    expect(t.state, JSON.stringify(t.error)).toBe('success');
    expect((await eventsOf(api(), before, 'vm.disk.encrypted')).length).toBe(1);
    const enc = await diskFile(vmId, 'disk1');
    expect(isLuks(enc.bytes)).toBe(true);
    expect(enc.bytes.includes(PLAIN_RUN)).toBe(false);
    const info = await infoOf(vmId);
    expect(info.disks.map((x) => [x.id, x.encrypted])).toEqual([['disk0', true], ['disk1', true]]);
    expect(info.disks[1]?.layers.at(-1)?.keyId).toBe(info.keyId);
    expect((await vmOf(vmId)).compliance.status).toBe('compliant');
    expect(await poweredOn(vmId, async () => (await guestDataIntact(lab.host(0), vmId, 0)) && guestDataIntact(lab.host(0), vmId, 1))).toBe(true);
  });
});

describe('backup export and restore through the manager', () => {
  let src = '';
  let exportDir = '';

  it('a No Cryptography Administrator is denied the export of an encrypted VM, the privilege named', async () => {
    src = await createVm(api(), { name: 'bk', hostId: lab.hosts[0]?.id ?? '', datastoreId: ds, policyId: 'vm-encryption', disks: [4 * MiB] });
    await poweredOn(src, () => writeGuestData(lab.host(0), src));
    const carol = await ManagerApi.login(lab.manager.url, lab.manager.thumbprint, 'carol', 'carol-password-1');
    const denied = await refusal(carol.post(`/api/vms/${src}/export`, { name: 'bk-carol' }));
    expect(denied).toMatchObject({ status: 403, code: 'MANAGER_FORBIDDEN' });
    expect(denied.message).toMatch(/Cryptographer\.Decrypt/);
  });

  it('export writes an unencrypted copy: no LUKS, no keySafe, the guest data in clear at its offsets', async () => {
    const t = await runTask<{ result?: { path: string; encrypted: boolean } }>(api(), api().post(`/api/vms/${src}/export`, { name: 'bk-export' }));
    expect(t.state, JSON.stringify(t.error)).toBe('success');
    expect(t.result?.encrypted).toBe(false);
    exportDir = t.result?.path ?? '';
    expect(isAbsolute(exportDir)).toBe(true);
    const files = await filesIn(exportDir);
    expect(files.filter((f) => isLuks(f.bytes)).map((f) => f.name)).toEqual([]);
    const vmx = files.find((f) => f.name.endsWith('.vmx'));
    expect(vmx).toBeDefined();
    const doc = JSON.parse(vmx?.bytes.toString('utf8') ?? '{}') as Record<string, unknown>;
    expect(doc['keySafe']).toBeUndefined();
    expect(files.some((f) => rawHoldsPatterns(f.bytes))).toBe(true);
    // the source is untouched: still encrypted, its disk still ciphertext
    expect((await vmOf(src)).observed.encrypted).toBe(true);
    expect((await diskFile(src, 'disk0')).bytes.includes(PLAIN_RUN)).toBe(false);
  });

  it('restore into an encryption policy gives an encrypted VM with the same data', async () => {
    const before = await lastEventId(api());
    const t = await runTask<{ result?: { vmId: string } }>(api(), api().post('/api/vms/restore', {
      from: exportDir, name: 'bk-enc', hostId: lab.hosts[0]?.id, datastoreId: ds, policyId: 'vm-encryption',
    }));
    expect(t.state, JSON.stringify(t.error)).toBe('success');
    const id = t.result?.vmId ?? '';
    const vm = await vmOf(id);
    expect(vm.observed.encrypted).toBe(true);
    expect(vm.compliance.status).toBe('compliant');
    expect(vm.observed.keys.find((k) => k.part === 'vm')?.key.keyId).not.toBe((await vmOf(src)).observed.keys.find((k) => k.part === 'vm')?.key.keyId);
    expect((await eventsOf(api(), before, 'vm.restored')).length).toBe(1);
    expect((await eventsOf(api(), before, 'vm.restoredUnencrypted')).length).toBe(0);
    const files = await filesIn(dirname(vm.vmxPath ?? ''));
    expect(files.some((f) => isLuks(f.bytes))).toBe(true);
    expect(files.filter((f) => f.bytes.includes(PLAIN_RUN)).map((f) => f.name)).toEqual([]);
    expect(await poweredOn(id, () => guestDataIntact(lab.host(0), id))).toBe(true);
  });

  it('restore into Datastore Default gives a plain VM and a warning event saying it is now unencrypted', async () => {
    const before = await lastEventId(api());
    const t = await runTask<{ result?: { vmId: string } }>(api(), api().post('/api/vms/restore', {
      from: exportDir, name: 'bk-plain', hostId: lab.hosts[0]?.id, datastoreId: ds, policyId: 'datastore-default',
    }));
    expect(t.state, JSON.stringify(t.error)).toBe('success');
    const id = t.result?.vmId ?? '';
    const vm = await vmOf(id);
    expect(vm.observed).toMatchObject({ encrypted: false, keys: [] });
    expect(vm.compliance.status).toBe('compliant');
    const warn = (await eventsOf(api(), before, 'vm.restoredUnencrypted')).filter((e) => e.entity?.id === id);
    expect(warn).toHaveLength(1);
    expect(warn[0]?.severity).toBe('warning');
    expect(warn[0]?.message).toMatch(/NOT encrypted/);
    expect((await filesIn(dirname(vm.vmxPath ?? ''))).some((f) => isLuks(f.bytes))).toBe(false);
    expect(await poweredOn(id, () => guestDataIntact(lab.host(0), id))).toBe(true);
  });
});
