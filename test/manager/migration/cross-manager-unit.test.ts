import { describe, expect, it } from 'vitest';
import { HostApiError } from '../../../src/host/client/host-client.js';
import { IncomingMigrations } from '../../../src/manager/inventory/cross-manager/incoming.js';
import { OutgoingMigrations, type PeerCall } from '../../../src/manager/inventory/cross-manager/outgoing.js';
import type { CommitRequest, IncomingRequest } from '../../../src/manager/inventory/cross-manager/wire.js';
import { ALICE, KEY, migrationSetup, UUID } from './fakes.js';

const PEER = { url: 'https://127.0.0.1:9444', thumbprint: 'c'.repeat(64), token: 'vmcm_x' };

/** Manager A (source, the VM on esx1) and manager B (destination, its own esx2 on the same /ds/shared), B reached through a fake peer call. */
function twoManagers(o: { encrypted?: boolean; power?: 'poweredOn' | 'poweredOff' } = {}) {
  const a = migrationSetup(o);
  const b = migrationSetup(o);
  b.vms.delete(UUID);
  const incoming = new IncomingMigrations(b.d, b.policies);
  const peerCalls: string[] = [];
  const call: PeerCall = async <T>(_p: typeof PEER, method: string, path: string, body?: unknown): Promise<T> => {
    peerCalls.push(`${method} ${path}`);
    if (path === '/api/migrations/incoming') return (await incoming.prepare(body as IncomingRequest, ALICE)) as T;
    const id = path.split('/')[3] ?? '';
    if (path.endsWith('/commit')) return { vmId: await incoming.commit(id, body as CommitRequest, ALICE) } as T;
    await incoming.abort(id, ALICE);
    return { aborted: true } as T;
  };
  const outgoing = new OutgoingMigrations(a.d, a.policies, call);
  b.gw.on(b.h2.id, 'POST', '/v1/migrations/incoming', (x) => ({ migrationId: (x as { migrationId: string }).migrationId, endpoint: { host: '127.0.0.1', port: 5555 } }));
  return { a, b, outgoing, peerCalls };
}

describe('migration across managers (fake hosts, fake peer)', () => {
  it('live, encrypted: B checks the provider, pushes the keys to its host, prepares it; A streams, B adds the VM, A forgets it', async () => {
    const { a, b, outgoing, peerCalls } = twoManagers();
    let given: unknown;
    a.gw.on(a.h1.id, 'POST', `/v1/vms/${UUID}/migrate`, (x) => {
      given = x;
      expect(b.keys.pushed).toEqual([{ vmId: UUID, keys: [KEY] }]);
      return { channel: 'tunnel', bytes: 100, seconds: 1, mbPerSec: 1, downtimeMs: 30, encrypted: true };
    });
    const done = await a.tasks.wait((await outgoing.migrate(UUID, { manager: PEER, host: 'esx2', self: 'https://a' }, ALICE)).id);
    expect(done.state, JSON.stringify(done.error)).toBe('success');
    expect(done.result).toMatchObject({ mode: 'live', channel: 'tunnel', encrypted: true, hostId: b.h2.id });
    expect(given).toMatchObject({ channel: 'tunnel', endpoint: { host: '127.0.0.1', port: 5555 } });
    expect(Buffer.from(String((given as { key: string }).key), 'base64')).toHaveLength(32);
    expect(peerCalls.map((c) => c.replace(/[0-9a-f-]{36}/, 'ID'))).toEqual(['POST /api/migrations/incoming', 'POST /api/migrations/ID/commit']);
    expect(a.vms.vm(UUID)).toBeUndefined();
    expect(b.vms.require(UUID)).toMatchObject({ hostId: b.h2.id, provisioned: true, encrypted: true, policyId: 'vm-encryption' });
    expect(a.keys.dropped).toEqual([{ hostId: a.h1.id, keys: [KEY] }]);
    expect(b.events.posted.map((e) => e.type)).toEqual(['vm.migrated']);
    expect(a.events.posted.map((e) => e.type)).toEqual(['vm.migratingWithEncryption', 'vm.migrated']);
    expect(a.migrating.get(UUID)).toBeUndefined();
    expect(b.migrating.get(UUID)).toBeUndefined();
  });

  it('a key provider B does not know: refused before anything moves on either side', async () => {
    const { a, b, outgoing } = twoManagers();
    b.keys.known.clear();
    const done = await a.tasks.wait((await outgoing.migrate(UUID, { manager: PEER, host: 'esx2' }, ALICE)).id);
    expect(done.state).toBe('error');
    expect(done.error?.message).toMatch(/key provider kp-1, which this manager does not know.*rule: migrate-key-provider-known/);
    expect([...a.gw.calls, ...b.gw.calls].filter((c) => !c.includes(' GET '))).toEqual([]);
    expect(b.keys.pushed).toEqual([]);
    expect(a.vms.require(UUID).hostId).toBe(a.h1.id);
    expect(b.vms.vm(UUID)).toBeUndefined();
  });

  it('the destination user lacks Cryptographer.Migrate there: refused before anything moves', async () => {
    const { a, b, outgoing } = twoManagers();
    b.access.denied.add('Cryptographer.Migrate');
    const done = await a.tasks.wait((await outgoing.migrate(UUID, { manager: PEER, host: 'esx2' }, ALICE)).id);
    expect(done.error?.code).toBe('MANAGER_FORBIDDEN');
    expect([...a.gw.calls, ...b.gw.calls].filter((c) => !c.includes(' GET '))).toEqual([]);
    expect(b.vms.vm(UUID)).toBeUndefined();
    expect(a.vms.require(UUID).hostId).toBe(a.h1.id);
  });

  it('the stream fails: A aborts B, B drops the incoming VM, its row and its keys; the VM stays with A', async () => {
    const { a, b, outgoing, peerCalls } = twoManagers();
    a.gw.on(a.h1.id, 'POST', `/v1/vms/${UUID}/migrate`, () => {
      throw new HostApiError('HOST_MIGRATION_FAILED', 'destination gone', 502);
    });
    const origCall = b.gw.call.bind(b.gw);
    const aborts: string[] = [];
    b.gw.call = async (h, m, p, x) => (m === 'DELETE' && p.startsWith('/v1/migrations/') ? (aborts.push(p), {} as never) : origCall(h, m, p, x));
    const done = await a.tasks.wait((await outgoing.migrate(UUID, { manager: PEER, host: 'esx2' }, ALICE)).id);
    expect(done.error?.message).toMatch(/HOST_MIGRATION_FAILED/);
    expect(peerCalls.at(-1)).toMatch(/^DELETE \/api\/migrations\//);
    expect(aborts).toHaveLength(1);
    expect(b.vms.vm(UUID)).toBeUndefined();
    expect(b.keys.dropped).toEqual([{ hostId: b.h2.id, keys: [KEY] }]);
    expect(a.vms.require(UUID).hostId).toBe(a.h1.id);
    expect(b.migrating.get(UUID)).toBeUndefined();
  });

  it('powered off: B registers the VM on its host, A unregisters it from its own; a datastore B\'s host lacks is refused', async () => {
    const { a, b, outgoing } = twoManagers({ power: 'poweredOff' });
    b.gw.on(b.h2.id, 'POST', '/v1/vms/register', () => b.hostVm());
    a.gw.on(a.h1.id, 'DELETE', `/v1/vms/${UUID}`, () => ({}));
    const bad = await a.tasks.wait((await outgoing.migrate(UUID, { manager: PEER, host: 'esx1', datastore: 'solo' }, ALICE)).id);
    expect(bad.error?.message).toMatch(/rule: migrate-shared-datastore/);
    const done = await a.tasks.wait((await outgoing.migrate(UUID, { manager: PEER, host: 'esx2' }, ALICE)).id);
    expect(done.result).toMatchObject({ mode: 'cold' });
    expect(a.gw.calls).toContain(`${a.h1.id} DELETE /v1/vms/${UUID}`);
    expect(b.vms.require(UUID).hostId).toBe(b.h2.id);
  });
});
