import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import type { EventInput, HostGateway, KeyRef, KeyService, ManagerEvent } from '../../../src/manager/contracts.js';
import { INVENTORY_MIGRATIONS } from '../../../src/manager/inventory/migrations.js';
import { HostApiError } from '../../../src/host/client/host-client.js';
import type { HostErrorCode } from '../../../src/host/errors.js';

/** An in-memory database with the inventory's schema only (foreign keys on, as the manager opens it). */
export function inventoryDb(): Database {
  const db = new BetterSqlite3(':memory:');
  db.pragma('foreign_keys = ON');
  for (const m of INVENTORY_MIGRATIONS) db.exec(m.sql);
  return db;
}

export class FakeEvents {
  readonly posted: EventInput[] = [];
  post(e: EventInput): ManagerEvent {
    this.posted.push(e);
    return { ...e, id: this.posted.length, time: new Date().toISOString() };
  }
}

type Handler = (body: unknown) => unknown;

/** A host gateway answering from a table of `METHOD path` handlers; records every call. */
export class FakeHosts implements HostGateway {
  readonly calls: string[] = [];
  readonly handlers = new Map<string, Handler>();

  on(hostId: string, method: string, path: string, h: Handler): this {
    this.handlers.set(`${hostId} ${method} ${path}`, h);
    return this;
  }

  async call<T>(hostId: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const k = `${hostId} ${method} ${path}`;
    this.calls.push(k);
    const h = this.handlers.get(k);
    if (h === undefined) throw new HostApiError('HOST_NOT_FOUND', `no fake for ${k}`, 404);
    return h(body) as T;
  }
}

export function hostRefusal(code: HostErrorCode, status: number, message = code): HostApiError {
  return new HostApiError(code, message, status);
}

/** Key management that counts calls and can be told to fail. */
export class FakeKeys implements KeyService {
  created: KeyRef[] = [];
  pushed: Array<{ vmId: string; keys: readonly KeyRef[] }> = [];
  unlocks: string[] = [];
  failCreate = false;
  failPush = false;

  defaultProviderId(): string {
    return 'kp-1';
  }

  async createKek(spec: { providerId?: string }): Promise<KeyRef> {
    if (this.failCreate) throw Object.assign(new Error('KMS down'), { code: 'MANAGER_KMS_UNREACHABLE' });
    const k = { providerId: spec.providerId ?? 'kp-1', keyId: `kek-${this.created.length + 1}` };
    this.created.push(k);
    return k;
  }

  async pushForVm(vmId: string, keys: readonly KeyRef[]): Promise<void> {
    if (this.failPush) throw Object.assign(new Error('host unreachable'), { code: 'MANAGER_HOST_UNREACHABLE' });
    this.pushed.push({ vmId, keys });
  }

  async unlockHost(hostId: string): Promise<{ unlocked: string[]; stillLocked: string[] }> {
    this.unlocks.push(hostId);
    return { unlocked: [], stillLocked: [] };
  }
}
