import { randomBytes } from 'node:crypto';

/** Object ids in vSphere's managed-object style (`host-1a2b3c4d5e6f`): the kind is readable in logs. */
export function newId(prefix: 'folder' | 'cluster' | 'host' | 'datastore' | 'policy' | 'vm' | 'op'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export function nowIso(): string {
  return new Date().toISOString();
}
