import { HostError } from '../errors.js';

/** How the migration stream travels (docs/host.md "Migration"). */
export const MigrationChannel = { TUNNEL: 'tunnel', QEMU_PSK: 'qemu-psk', PLAIN: 'plain' } as const;
export type MigrationChannel = (typeof MigrationChannel)[keyof typeof MigrationChannel];

/** The manager's one-time key for one migration (never from the KMS); zeroed by its owner. */
export interface OneTimeKey {
  readonly key: Buffer;
  readonly nonce: Buffer;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface IncomingSpec {
  readonly migrationId: string;
  readonly vmId: string;
  readonly vmxPath: string;
  readonly channel: MigrationChannel;
  readonly key?: OneTimeKey;
}

export interface MigrateSpec {
  readonly migrationId: string;
  readonly endpoint: Endpoint;
  readonly channel: MigrationChannel;
  readonly key?: OneTimeKey;
}

export interface MigrateResult {
  readonly migrationId: string;
  readonly channel: MigrationChannel;
  readonly bytes: number;
  readonly seconds: number;
  readonly mbPerSec: number;
  readonly downtimeMs: number;
  readonly encrypted: boolean;
}

export function parseChannel(body: Record<string, unknown>): MigrationChannel {
  const c = body['channel'];
  if (typeof c !== 'string' || !(Object.values(MigrationChannel) as string[]).includes(c)) throw new HostError('HOST_BAD_REQUEST', "'channel' must be tunnel, qemu-psk or plain");
  return c as MigrationChannel;
}

/** key (base64 of 32 bytes) + nonce (base64 of 8 bytes): required by the encrypted channels, refused by plain. */
export function parseOneTimeKey(body: Record<string, unknown>, channel: MigrationChannel): OneTimeKey | undefined {
  const k = body['key'];
  const n = body['nonce'];
  if (channel === MigrationChannel.PLAIN) {
    if (k !== undefined || n !== undefined) throw new HostError('HOST_BAD_REQUEST', "channel 'plain' takes no key");
    return undefined;
  }
  if (typeof k !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(k)) throw new HostError('HOST_BAD_REQUEST', "'key' must be 32 bytes in base64");
  if (typeof n !== 'string' || !/^[A-Za-z0-9+/]{11}=$/.test(n)) throw new HostError('HOST_BAD_REQUEST', "'nonce' must be 8 bytes in base64");
  return { key: Buffer.from(k, 'base64'), nonce: Buffer.from(n, 'base64') };
}

export function parseEndpoint(body: Record<string, unknown>): Endpoint {
  const e = body['endpoint'];
  const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
  const host = o['host'];
  const port = o['port'];
  if (typeof host !== 'string' || !/^[A-Za-z0-9.:-]{1,253}$/.test(host)) throw new HostError('HOST_BAD_REQUEST', "'endpoint.host' must be a host name or address");
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw new HostError('HOST_BAD_REQUEST', "'endpoint.port' must be a port number");
  return { host, port };
}
