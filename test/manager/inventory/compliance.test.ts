import { describe, expect, it } from 'vitest';
import { complianceOf } from '../../../src/manager/inventory/compliance.js';
import type { StoragePolicy } from '../../../src/manager/inventory/store/policy-store.js';
import type { VmDetail } from '../../../src/manager/inventory/store/vm-store.js';
import type { VmOperation } from '../../../src/manager/inventory/store/operation-store.js';

const plain: StoragePolicy = { id: 'datastore-default', name: 'Datastore Default', encryption: false, builtIn: true };
const enc: StoragePolicy = { id: 'vm-encryption', name: 'VM Encryption Policy', encryption: true, builtIn: true };
const gold: StoragePolicy = { id: 'p-gold', name: 'Gold', encryption: true, providerId: 'kp-2', builtIn: false };
const key = { providerId: 'kp-1', keyId: 'k1' };
const vm = (o: Partial<VmDetail> = {}): VmDetail => ({
  id: 'v', name: 'v', hostId: 'h', datastoreId: 'd', policyId: 'x', keys: [], powerState: 'poweredOff', locked: false, provisioned: true, encrypted: false, ...o,
});
const op = (state: VmOperation['state']): VmOperation => ({ id: 'op', vmId: 'v', kind: 'create', state, step: '', spec: {}, createdAt: '', updatedAt: '', ...(state === 'failed' ? { error: { code: 'X', message: 'boom' } } : {}) });

describe('storage policy compliance (desired vs observed)', () => {
  it.each([
    ['plain VM, Datastore Default', vm(), plain, undefined, 'compliant'],
    ['encrypted VM, VM Encryption Policy', vm({ encrypted: true, keys: [{ part: 'vm', key }] }), enc, undefined, 'compliant'],
    ['plain VM, encryption policy', vm(), enc, undefined, 'notCompliant'],
    ['encrypted VM, Datastore Default', vm({ encrypted: true, keys: [{ part: 'vm', key }] }), plain, undefined, 'notCompliant'],
    ['key of another provider than the policy names', vm({ encrypted: true, keys: [{ part: 'vm', key }] }), gold, undefined, 'notCompliant'],
    ['operation running', vm(), enc, op('inProgress'), 'inProgress'],
    ['operation failed', vm(), enc, op('failed'), 'notCompliant'],
    ['not yet created on its host', vm({ provisioned: false }), plain, undefined, 'notCompliant'],
    ['host cannot read it', vm({ observedError: 'tampered' }), plain, undefined, 'notCompliant'],
  ] as const)('%s → %s', (_n, v, p, o, want) => {
    const r = complianceOf(v, p, o);
    expect(r.status).toBe(want);
    if (want !== 'compliant') expect(r.reason).toBeTruthy();
  });
});
