import { describe, expect, it } from 'vitest';
import { parseInPlace, rerunOf, unfinishedInPlace } from '../../../src/host/vm-files/in-place-record.js';
import { parseVmx } from '../../../src/host/vm-files/vmx.js';

// The .vmx `inPlace` field is untrusted input (a file on a shared datastore): bounded, typed,
// and only wrapped keys; messages name the rerun.
const good = {
  op: 'rekey', startedAt: '2026-11-30T08:00:00Z', key: { providerId: 'kp', keyId: 'k2' }, wrappedVmDek: 'v2:aes256gcm:AAAA',
  disks: [{ disk: 0, file: 'vm-disk0.luks', to: 'vm-disk0.luks', wrappedDek: 'v2:aes256gcm:BBBB' }],
};

describe('.vmx inPlace field', () => {
  it('parses a valid record and keeps it through parseVmx', () => {
    expect(parseInPlace(good, 'f.vmx')).toEqual(good);
    const vmx = { format: 'vmcrypt-vmx/1', name: 'vm', uuid: '0b0e6c1e-9b7e-4a39-8e43-0d4c1b2a3f10', storagePolicy: 'x', inPlace: { op: 'decrypt', disks: [{ disk: 1, file: 'a.luks', to: 'a.raw', luksUuid: 'c0ffee00-1111-2222-3333-444455556666' }] }, config: { memoryMiB: 64, disks: [], snapshots: [], nvram: 'n', log: 'l' } };
    expect(parseVmx(JSON.stringify(vmx), 'f.vmx').inPlace).toMatchObject({ op: 'decrypt', disks: [{ disk: 1, to: 'a.raw' }] });
  });

  it.each([
    ['an unknown op', { ...good, op: 'shred' }, /inPlace\.op/],
    ['a rekey without its key', { ...good, key: undefined }, /inPlace\.key/],
    ['more than 8 disks', { ...good, disks: Array.from({ length: 9 }, (_, i) => ({ disk: 0, file: `d${i}`, to: `d${i}` })) }, /inPlace\.disks/],
    ['a disk index out of range', { ...good, disks: [{ disk: 8, file: 'a', to: 'b' }] }, /disks\[0\]\.disk/],
    ['a path in a file name', { ...good, disks: [{ disk: 0, file: '../etc/passwd', to: 'b' }] }, /disks\[0\]\.file/],
    ['an oversized wrapped key', { ...good, wrappedVmDek: 'x'.repeat(513) }, /wrappedVmDek/],
    ['a bad key id', { ...good, key: { providerId: 'kp', keyId: 'bad id with spaces' } }, /keyId/],
    ['not an object', 'rekey', /inPlace\.value/],
  ])('refuses %s (HOST_VMX_INVALID)', (_what, raw, re) => {
    expect(() => parseInPlace(raw, 'f.vmx')).toThrow(re);
    try {
      parseInPlace(raw, 'f.vmx');
    } catch (err) {
      expect(err).toMatchObject({ code: 'HOST_VMX_INVALID' });
    }
  });

  it('names the operation to rerun', () => {
    const p = parseInPlace(good, 'f.vmx');
    expect(rerunOf(p, 'U')).toBe('rerun the deep rekey with key k2 (POST /v1/vms/U/rekey deep; vmcrypt vm rekey --deep --in-place)');
    const err = unfinishedInPlace(p, 'U', 'web', 'powering on');
    expect(err).toMatchObject({ code: 'HOST_CONFLICT' });
    expect(err.message).toMatch(/^powering on refused: VM web is in the middle of an in-place rekey .* rerun the deep rekey with key k2/);
  });
});
