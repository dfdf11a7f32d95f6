import type { EntityRef, KeyRef, Principal, Privilege, ProgressUpdate, TaskInfo, TaskProgress } from '../../../src/manager/contracts.js';
import { ManagerError } from '../../../src/manager/errors.js';
import { MigratingVms } from '../../../src/manager/inventory/ops/migrate-registry.js';
import type { MigrateDeps } from '../../../src/manager/inventory/ops/migrate-plan.js';
import { OpLocks } from '../../../src/manager/inventory/ops/op-locks.js';
import { VmSettingsStore } from '../../../src/manager/inventory/ops/vm-settings-store.js';
import { DatastoreStore } from '../../../src/manager/inventory/store/datastore-store.js';
import { HostStore } from '../../../src/manager/inventory/store/host-store.js';
import { OperationStore } from '../../../src/manager/inventory/store/operation-store.js';
import { PolicyStore } from '../../../src/manager/inventory/store/policy-store.js';
import { VmStore } from '../../../src/manager/inventory/store/vm-store.js';
import { FakeEvents, FakeHosts, FakeKeys, inventoryDb } from '../inventory/fakes.js';

/** Tasks that run at once; `wait` gives the end state, `updates` every progress report. */
export class FakeTasks {
  readonly updates: ProgressUpdate[] = [];
  readonly #ends = new Map<string, Promise<TaskInfo>>();

  start<T>(spec: { kind: string; entity?: EntityRef; user?: string }, run: (p: TaskProgress) => Promise<T>): TaskInfo {
    const id = `task-${this.#ends.size + 1}`;
    const base = { id, kind: spec.kind, percent: 0, startedAt: new Date().toISOString() };
    const progress: TaskProgress = { update: (p) => this.updates.push(p) };
    this.#ends.set(id, run(progress).then(
      (result) => ({ ...base, state: 'success' as const, percent: 100, result }),
      (err: unknown) => ({ ...base, state: 'error' as const, error: { code: String((err as { code?: unknown }).code ?? 'X'), message: (err as Error).message } }),
    ));
    return { ...base, state: 'running' };
  }

  async wait(id: string): Promise<TaskInfo> {
    const t = this.#ends.get(id);
    if (t === undefined) throw new Error(`no task ${id}`);
    return t;
  }
}

/** Allows everything but the privileges listed in `denied`. */
export class FakeAccess {
  readonly denied = new Set<string>();
  readonly checked: string[] = [];
  check(_p: Principal, privilege: Privilege): void {
    this.checked.push(privilege);
    if (this.denied.has(privilege)) throw new ManagerError('MANAGER_FORBIDDEN', `lacks privilege ${privilege}`);
  }
  has(_p: Principal, privilege: Privilege): boolean {
    return !this.denied.has(privilege);
  }
}

export class MigrationKeys extends FakeKeys {
  readonly known = new Set(['kp-1']);
  readonly pushedTo: Array<{ hostId: string; keys: readonly KeyRef[] }> = [];
  readonly dropped: Array<{ hostId: string; keys: readonly KeyRef[] }> = [];
  knowsProvider(p: string): boolean {
    return this.known.has(p);
  }
  async pushToHost(hostId: string, keys: readonly KeyRef[]): Promise<void> {
    this.pushedTo.push({ hostId, keys });
  }
  async dropUnneeded(hostId: string, keys: readonly KeyRef[]): Promise<readonly string[]> {
    this.dropped.push({ hostId, keys });
    return keys.map((k) => k.keyId);
  }
}

export const UUID = '11111111-2222-4333-8444-555555555555';
export const KEY: KeyRef = { providerId: 'kp-1', keyId: 'kek-9' };
export const ALICE: Principal = { user: 'alice' };

/** Two connected hosts sharing datastore `shared` (+ `other` on both, `solo` on esx1 only), one VM on esx1. */
export function migrationSetup(o: { encrypted?: boolean; power?: 'poweredOn' | 'poweredOff' } = {}) {
  const db = inventoryDb();
  const hosts = new HostStore(db);
  const datastores = new DatastoreStore(db);
  const vms = new VmStore(db);
  const h1 = hosts.insert({ name: 'esx1', url: 'https://127.0.0.1:1', thumbprint: 'a'.repeat(64), cryptoMode: 'safe' });
  const h2 = hosts.insert({ name: 'esx2', url: 'https://127.0.0.1:2', thumbprint: 'b'.repeat(64), cryptoMode: 'safe' });
  const shared = datastores.attach(h1.id, 'esx1', '/ds/shared', 'shared', 'shared');
  datastores.attach(h2.id, 'esx2', '/ds/shared', 'shared', 'shared');
  const other = datastores.attach(h1.id, 'esx1', '/ds/other', 'other', 'other');
  datastores.attach(h2.id, 'esx2', '/ds/other', 'other', 'other');
  datastores.attach(h1.id, 'esx1', '/ds/solo', 'solo', 'solo');
  const encrypted = o.encrypted ?? true;
  vms.insert({ id: UUID, name: 'web1', hostId: h1.id, datastoreId: shared.id, policyId: encrypted ? 'vm-encryption' : 'datastore-default', provisioned: true });
  const hostVm = (dir = '/ds/shared') => ({
    uuid: UUID, name: 'web1', vmx: `${dir}/web1/web1.vmx`, encrypted, powerState: o.power ?? 'poweredOn', disks: [{ id: 'disk0' }],
    crypto: encrypted ? { state: 'unlocked', ...KEY } : { state: 'notEncrypted' },
  });
  vms.recordObserved(UUID, { encrypted, keys: encrypted ? [{ part: 'vm', key: KEY }, { part: 'disk0', key: KEY }] : [], powerState: o.power ?? 'poweredOn', locked: false, vmxPath: '/ds/shared/web1/web1.vmx' });
  const gw = new FakeHosts();
  const keys = new MigrationKeys();
  const events = new FakeEvents();
  const tasks = new FakeTasks();
  const access = new FakeAccess();
  const locks = new OpLocks(2);
  const migrating = new MigratingVms();
  const d: MigrateDeps = {
    db, vms, hosts, datastores, settings: new VmSettingsStore(db), ops: new OperationStore(db), gateway: gw, keys: () => keys,
    access, tasks, events, migrating, exclusive: (vmId, hostId, fn) => locks.run(vmId, hostId, fn),
  };
  const capable = { migration: { encryption: true, channels: ['tunnel', 'qemu-psk', 'plain'] } };
  gw.on(h1.id, 'GET', `/v1/vms/${UUID}`, () => hostVm()).on(h2.id, 'GET', `/v1/vms/${UUID}`, () => hostVm())
    .on(h1.id, 'GET', '/v1/host', () => capable).on(h2.id, 'GET', '/v1/host', () => capable)
    .on(h1.id, 'GET', '/v1/events?after=0', () => ({ events: [] }));
  return { db, d, hosts, datastores, vms, gw, keys, events, tasks, access, migrating, h1, h2, shared, other, hostVm, policies: new PolicyStore(db) };
}
