import { getDiffieHellman } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError } from '../errors.js';
import type { QmpClient } from './qmp.js';
import { passphraseOf } from './disk-images.js';

/**
 * QMP side of QEMU live migration (docs/host.md "Migration"): capabilities and parameters,
 * the TLS-PSK credentials of channel qemu-psk, the destination's listening URI and the
 * source's progress from `query-migrate`.
 */

/** Let the stream use the loopback / LAN at full speed (QEMU 7.2 caps it at 32 MiB/s by default). */
const MAX_BANDWIDTH = 100 * 1024 * 1024 * 1024;
/** Longest pause at switch-over QEMU aims for. */
export const DOWNTIME_LIMIT_MS = 300;
/** GnuTLS priority of channel qemu-psk: TLS 1.2 with AES-256-GCM only (QEMU appends the PSK key exchanges). */
export const PSK_PRIORITY = 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:-MAC-ALL:+AEAD';

/**
 * Parallel streams of channels plain and qemu-psk (QEMU multifd: one thread and connection each,
 * so TLS runs on every core; the tunnel takes one connection). bench:migrate: qemu-psk 103 →
 * 181 MB/s, plain 681 → 857 MB/s, same CPU per byte.
 */
export const MULTIFD_CHANNELS = 4;

/**
 * Both ends: the return path (the destination reports back, so the source learns whether the
 * destination loaded the state and resumes its VM if not), bandwidth, downtime, TLS creds.
 */
export async function setMigrationParameters(qmp: QmpClient, tlsCreds: string | undefined, incoming = false, multifd = 0): Promise<void> {
  const caps = [{ capability: 'return-path', state: true }, { capability: 'multifd', state: multifd > 0 }];
  // destination: the disk images stay inactive (unlocked) until `cont`, so a source that
  // resumes after a failed switch-over never meets a destination holding its images
  if (incoming) caps.push({ capability: 'late-block-activate', state: true });
  await qmp.execute('migrate-set-capabilities', { capabilities: caps });
  await qmp.execute('migrate-set-parameters', {
    'max-bandwidth': MAX_BANDWIDTH, 'downtime-limit': DOWNTIME_LIMIT_MS, 'tls-creds': tlsCreds ?? '',
    ...(multifd > 0 ? { 'multifd-channels': multifd } : {}),
  });
}

/** Destination: starts listening on `uri` (tcp:HOST:0 or unix:PATH); returns the TCP port when there is one. */
export async function listenIncoming(qmp: QmpClient, uri: string): Promise<number | undefined> {
  await qmp.execute('migrate-incoming', { uri });
  const info = (await qmp.execute('query-migrate')) as { 'socket-address'?: Array<{ port?: string | number }> };
  const port = Number(info['socket-address']?.[0]?.port);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

export interface MigrationStatus {
  readonly status: string;
  readonly error?: string;
  /** Bytes sent so far (RAM + device state). */
  readonly transferred: number;
  readonly total: number;
  readonly remaining: number;
  /** Megabits per second as QEMU reports them. */
  readonly mbps: number;
  readonly totalTimeMs: number;
  readonly downtimeMs: number;
}

export async function queryMigration(qmp: QmpClient): Promise<MigrationStatus> {
  const r = (await qmp.execute('query-migrate')) as Record<string, unknown>;
  const ram = (r['ram'] ?? {}) as Record<string, unknown>;
  const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return {
    status: typeof r['status'] === 'string' ? r['status'] : 'none',
    ...(typeof r['error-desc'] === 'string' ? { error: r['error-desc'] } : {}),
    transferred: n(ram['transferred']), total: n(ram['total']), remaining: n(ram['remaining']), mbps: n(ram['mbps']),
    totalTimeMs: n(r['total-time']), downtimeMs: n(r['downtime']),
  };
}

export const TERMINAL_STATES: readonly string[] = ['completed', 'failed', 'cancelled'];

/** DER "DH PARAMETERS" of the RFC 3526 2048-bit group: without it QEMU's TLS server generates some (seconds). */
function dhParamsPem(): string {
  const p = getDiffieHellman('modp14').getPrime();
  const int = (b: Buffer): Buffer => {
    const v = (b[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
    return Buffer.concat([Buffer.from([0x02]), derLength(v.length), v]);
  };
  const body = Buffer.concat([int(p), int(Buffer.from([2]))]);
  const der = Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN DH PARAMETERS-----\n${b64}\n-----END DH PARAMETERS-----\n`;
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  return n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
}

/**
 * Adds a `tls-creds-psk` object whose PSK is the one-time key. QEMU reads `keys.psk`
 * ("qemu:<hex>") from a private directory (0700, file 0600, on tmpfs when /dev/shm exists): a
 * client at object-add, a server at the handshake. The caller calls `remove()` right after
 * that moment (it is idempotent); the key is never on a command line nor in the QMP stream.
 */
export async function addPskCreds(qmp: QmpClient, id: string, endpoint: 'client' | 'server', key: Buffer, tmpBase: string): Promise<{ remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpBase, 'vmcrypt-psk-'));
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const hex = passphraseOf(key); // hex bytes, never a JS string
  const line = Buffer.concat([Buffer.from('qemu:'), hex, Buffer.from('\n')]);
  hex.fill(0);
  try {
    await writeFile(join(dir, 'keys.psk'), line, { mode: 0o600, flag: 'wx' });
    await writeFile(join(dir, 'dh-params.pem'), dhParamsPem(), { mode: 0o600, flag: 'wx' });
    await qmp.execute('object-add', { 'qom-type': 'tls-creds-psk', id, endpoint, dir, priority: PSK_PRIORITY, ...(endpoint === 'client' ? { username: 'qemu' } : {}) });
  } catch (err) {
    await remove();
    throw err instanceof HostError ? err : new HostError('HOST_MIGRATION_FAILED', `TLS-PSK credentials: ${String(err)}`);
  } finally {
    line.fill(0);
  }
  return { remove };
}
