import { EntityKind, type EventPoster, type HostGateway } from '../contracts.js';
import { ManagerError } from '../errors.js';
import type { DatastoreRecord, DatastoreStore } from './store/datastore-store.js';
import type { HostStore } from './store/host-store.js';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Mounts a directory as a datastore on one host, or on several (shared storage: the same path). */
export async function createDatastore(
  d: { hosts: HostStore; datastores: DatastoreStore; gateway: HostGateway; events: EventPoster },
  spec: { name: string; path: string; hostIds: readonly string[]; user?: string },
): Promise<DatastoreRecord> {
  if (!NAME_RE.test(spec.name)) throw new ManagerError('MANAGER_BAD_REQUEST', 'datastore name must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}');
  if (!spec.path.startsWith('/')) throw new ManagerError('MANAGER_BAD_REQUEST', 'datastore path must be absolute');
  const existing = d.datastores.byName(spec.name);
  if (existing !== undefined && existing.path !== spec.path) throw new ManagerError('MANAGER_CONFLICT', `datastore ${spec.name} already exists at ${existing.path}`);
  const hosts = [...new Set(spec.hostIds)].map((id) => d.hosts.require(id));
  let ds: DatastoreRecord | undefined;
  for (const h of hosts) {
    await d.gateway.call(h.id, 'POST', '/v1/datastores', { name: spec.name, path: spec.path });
    ds = d.datastores.attach(h.id, h.name, spec.path, spec.name, spec.name);
  }
  if (ds === undefined) throw new ManagerError('MANAGER_BAD_REQUEST', 'hostIds must name at least one host');
  d.events.post({
    type: 'datastore.created', severity: 'info', entity: { kind: EntityKind.DATASTORE, id: ds.id },
    message: `datastore ${ds.name} (${ds.path}) mounted on ${hosts.map((h) => h.name).join(', ')}`,
    ...(spec.user === undefined ? {} : { user: spec.user }),
  });
  return ds;
}
