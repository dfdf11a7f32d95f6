import type { KeyRef } from '../../contracts.js';
import type { MigrateEncryption } from '../ops/vm-settings-store.js';

/**
 * What the source manager sends the destination manager (cross-vCenter migration and clone,
 * seed 001): the VM's files on a datastore both managers' hosts mount, its keys by id (the
 * destination fetches them from the shared key provider itself), the source host's migration
 * capability and, for a live migration, the one-time key the destination host needs.
 */
export interface IncomingRequest {
  readonly migrationId: string;
  readonly purpose: 'migrate' | 'clone';
  readonly mode: 'live' | 'cold';
  /** The source manager, as messages and events name it. */
  readonly sourceManager: string;
  readonly vm: {
    readonly id: string;
    readonly name: string;
    readonly vmxPath: string;
    readonly encrypted: boolean;
    readonly keys: readonly KeyRef[];
    readonly migrateEncryption: MigrateEncryption;
    readonly policyName?: string;
  };
  /** Destination host id or name (in the destination's inventory). */
  readonly host: string;
  /** Destination datastore id or name; it must hold the VM's directory. */
  readonly datastore?: string;
  readonly source?: { readonly encryption: boolean; readonly channels: readonly string[] };
  readonly key?: string;
  readonly nonce?: string;
}

export interface IncomingAnswer {
  readonly migrationId: string;
  readonly vmId: string;
  readonly hostId: string;
  readonly datastoreId: string;
  readonly encrypted: boolean;
  readonly channel?: string;
  /** Why an opportunistic VM goes plain. */
  readonly fellBack?: string;
  readonly endpoint?: { readonly host: string; readonly port: number };
}

export interface CommitRequest {
  readonly bytes?: number;
  readonly downtimeMs?: number;
  readonly mbPerSec?: number;
  readonly channel?: string;
}

const s = (maxLength: number, extra: Record<string, unknown> = {}) => ({ type: 'string', minLength: 1, maxLength, ...extra }) as const;
const B64 = (n: number) => s(n, { pattern: '^[A-Za-z0-9+/]+={0,2}$' });

export const incomingBodySchema = {
  type: 'object', additionalProperties: false, required: ['migrationId', 'purpose', 'mode', 'sourceManager', 'vm', 'host'],
  properties: {
    migrationId: s(36, { pattern: '^[0-9a-f-]{36}$' }),
    purpose: { type: 'string', enum: ['migrate', 'clone'] },
    mode: { type: 'string', enum: ['live', 'cold'] },
    sourceManager: s(512),
    vm: {
      type: 'object', additionalProperties: false, required: ['id', 'name', 'vmxPath', 'encrypted', 'keys', 'migrateEncryption'],
      properties: {
        id: s(64, { pattern: '^[A-Za-z0-9._-]+$' }), name: s(64), vmxPath: s(4096, { pattern: '^/' }), encrypted: { type: 'boolean' },
        keys: {
          type: 'array', maxItems: 1024,
          items: { type: 'object', additionalProperties: false, required: ['providerId', 'keyId'], properties: { providerId: s(256), keyId: s(256) } },
        },
        migrateEncryption: { type: 'string', enum: ['disabled', 'opportunistic', 'required'] },
        policyName: s(256),
      },
    },
    host: s(256), datastore: s(256),
    source: {
      type: 'object', additionalProperties: false, required: ['encryption', 'channels'],
      properties: { encryption: { type: 'boolean' }, channels: { type: 'array', maxItems: 16, items: s(32) } },
    },
    key: B64(44), nonce: B64(12),
  },
} as const;

export const incomingAnswerSchema = {
  type: 'object', required: ['migrationId', 'vmId', 'hostId', 'datastoreId', 'encrypted'],
  properties: {
    migrationId: { type: 'string' }, vmId: { type: 'string' }, hostId: { type: 'string' }, datastoreId: { type: 'string' },
    encrypted: { type: 'boolean' }, channel: { type: 'string' }, fellBack: { type: 'string' },
    endpoint: { type: 'object', properties: { host: { type: 'string' }, port: { type: 'integer' } } },
  },
} as const;

export const commitBodySchema = {
  type: 'object', additionalProperties: false,
  properties: { bytes: { type: 'number', minimum: 0 }, downtimeMs: { type: 'number', minimum: 0 }, mbPerSec: { type: 'number', minimum: 0 }, channel: s(32) },
} as const;
