import { describe, expect, it } from 'vitest';
import { relayHostEvent } from '../../../src/manager/inventory/hosts/host-events.js';
import { parseHostVm } from '../../../src/manager/inventory/hosts/host-replies.js';

const UUID = '5b0c2a4e-1d3f-4a6b-8c9d-0e1f2a3b4c5d';
const base = { uuid: UUID, name: 'chain', vmx: '/ds/chain/chain.vmx', encrypted: true, powerState: 'poweredOff' };

describe('host replies: the keys a VM needs', () => {
  it('a chain half under the new KEK (shallow rekey stopped after the base layer): both keys, by part', () => {
    const hv = parseHostVm({
      ...base,
      crypto: { state: 'unlocked', providerId: 'kp1', keyId: 'old' },
      pendingRekey: { providerId: 'kp2', keyId: 'new' },
      keyIds: ['old', 'new'],
      disks: [{ id: 'disk0', sizeBytes: 4096, encrypted: true, layers: [
        { file: 'disk0.luks', format: 'luks', keyId: 'new' },
        { file: 'disk0-s1.qcow2', format: 'qcow2', keyId: 'old' },
        { file: 'disk0-s2.qcow2', format: 'qcow2', keyId: 'old' },
      ] }],
    });
    expect(hv.observation.keys).toEqual([
      { part: 'vm', key: { providerId: 'kp1', keyId: 'old' } },
      { part: 'disk0', key: { providerId: 'kp1', keyId: 'old' } },
      { part: 'disk0@0', key: { providerId: 'kp2', keyId: 'new' } },
    ]);
  });

  it('a locked VM shows no layers: the keys the host lists in keyIds are recorded all the same', () => {
    const hv = parseHostVm({
      ...base,
      crypto: { state: 'locked', providerId: 'kp1', keyId: 'old', reason: 'keys missing' },
      pendingRekey: { providerId: 'kp1', keyId: 'new' },
      keyIds: ['old', 'new'],
    });
    expect(hv.observation.locked).toBe(true);
    expect(hv.observation.keys).toEqual([
      { part: 'vm', key: { providerId: 'kp1', keyId: 'old' } },
      { part: 'chain0', key: { providerId: 'kp1', keyId: 'new' } },
    ]);
  });

  it('one key for everything: one part per disk, nothing more; a plain disk of an encrypted VM has none', () => {
    const hv = parseHostVm({
      ...base,
      crypto: { state: 'unlocked', providerId: 'kp1', keyId: 'k' },
      keyIds: ['k'],
      disks: [
        { id: 'disk0', encrypted: true, layers: [{ file: 'a.luks', format: 'luks', keyId: 'k' }, { file: 'b.qcow2', format: 'qcow2', keyId: 'k' }] },
        { id: 'disk1', encrypted: false, layers: [{ file: 'c.raw', format: 'raw', keyId: null }] },
      ],
    });
    expect(hv.observation.keys.map((k) => `${k.part}=${k.key.keyId}`)).toEqual(['vm=k', 'disk0=k']);
  });

  it('refuses a malformed keyIds list', () => {
    expect(() => parseHostVm({ ...base, crypto: { state: 'locked', providerId: 'kp1', keyId: 'k' }, keyIds: [7] })).toThrow(/keyIds/);
  });
});

describe('host events the manager relays', () => {
  it('not the agent\'s vm.unlocked nor host.cryptoSafe: key management posts those itself, once', () => {
    const ev = (type: string) => relayHostEvent('h1', 'esx1', { seq: 1, time: 't', type, message: 'm', vmUuid: UUID }, () => true);
    expect(ev('vm.unlocked')).toBeUndefined();
    expect(ev('host.cryptoSafe')).toBeUndefined();
    expect(ev('coredump.exists')?.type).toBe('coredump.encryptedExists');
  });
});
