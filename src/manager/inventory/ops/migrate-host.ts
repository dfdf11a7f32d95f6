import type { HostGateway } from '../../contracts.js';
import { ManagerError } from '../../errors.js';
import { parseCapability, type MigrationCapability, type MigrationChannel } from './migrate-policy.js';

/**
 * The host side of a migration, as /tmp contract "migration-contract" (docs/host-api.yaml)
 * describes it: capability, incoming (destination), migrate (source), abort, relocate. Every
 * reply is a peer's data: numbers and strings are checked and bounded before use.
 */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface MigrationProgress {
  readonly bytes: number;
  readonly totalBytes?: number;
  readonly mbPerSec?: number;
  readonly remainingBytes?: number;
}

export interface MigrationResult {
  readonly migrationId: string;
  readonly channel: string;
  readonly bytes: number;
  readonly seconds: number;
  readonly mbPerSec: number;
  readonly downtimeMs: number;
  readonly encrypted: boolean;
}

export interface StreamSpec {
  readonly migrationId: string;
  readonly channel: MigrationChannel;
  /** `{ key, nonce }` base64 for an encrypted channel. */
  readonly secret?: { readonly key: string; readonly nonce: string };
}

const bad = (what: string): ManagerError => new ManagerError('MANAGER_HOST_UNREACHABLE', `the host sent a malformed migration reply (${what})`);
const num = (o: Record<string, unknown>, k: string): number | undefined => {
  const v = o[k];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v < 2 ** 60 ? v : undefined;
};

export async function hostCapability(gw: HostGateway, hostId: string): Promise<MigrationCapability> {
  return parseCapability(await gw.call(hostId, 'GET', '/v1/host'));
}

/** Destination: registers the VM from its .vmx and waits for the stream on the endpoint it answers. */
export async function prepareIncoming(gw: HostGateway, hostId: string, body: StreamSpec & { vmId: string; vmxPath: string }): Promise<Endpoint> {
  const r = await gw.call<Record<string, unknown>>(hostId, 'POST', '/v1/migrations/incoming', {
    migrationId: body.migrationId, vmId: body.vmId, vmxPath: body.vmxPath, channel: body.channel, ...(body.secret ?? {}),
  });
  const ep = r['endpoint'];
  if (typeof ep !== 'object' || ep === null) throw bad('endpoint');
  const e = ep as Record<string, unknown>;
  const port = num(e, 'port');
  if (typeof e['host'] !== 'string' || e['host'].length > 255 || port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) throw bad('endpoint');
  return { host: e['host'], port };
}

/** Destination: drops the incoming VM (idempotent; a failure here is only logged by the caller). */
export async function abortIncoming(gw: HostGateway, hostId: string, migrationId: string): Promise<void> {
  await gw.call(hostId, 'DELETE', `/v1/migrations/${encodeURIComponent(migrationId)}`);
}

/** The newest event sequence number of the host now (its feed holds at most 1,000 events). */
async function eventCursor(gw: HostGateway, hostId: string): Promise<number> {
  let after = 0;
  for (let i = 0; i < 10; i++) {
    const r = await gw.call<{ events?: Array<{ seq?: unknown }> }>(hostId, 'GET', `/v1/events?after=${after}`);
    const list = Array.isArray(r.events) ? r.events : [];
    const last = list.at(-1)?.seq;
    if (typeof last !== 'number' || !Number.isSafeInteger(last)) return after;
    after = last;
    if (list.length < 200) return after;
  }
  return after;
}

/** `vm.migration.progress` of this migration among host events, fields at the top or under `data`. */
export function progressOf(events: unknown, migrationId: string): { seq: number; progress?: MigrationProgress } {
  const list = Array.isArray((events as { events?: unknown } | null)?.events) ? ((events as { events: unknown[] }).events).slice(0, 200) : [];
  let seq = 0;
  let progress: MigrationProgress | undefined;
  for (const raw of list) {
    if (typeof raw !== 'object' || raw === null) continue;
    const e = raw as Record<string, unknown>;
    const s = num(e, 'seq');
    if (s !== undefined) seq = Math.max(seq, s);
    if (e['type'] !== 'vm.migration.progress') continue;
    const d = typeof e['data'] === 'object' && e['data'] !== null ? { ...e, ...(e['data'] as Record<string, unknown>) } : e;
    if (d['migrationId'] !== migrationId) continue;
    const bytes = num(d, 'bytes');
    if (bytes === undefined) continue;
    const total = num(d, 'totalBytes');
    const rate = num(d, 'mbPerSec');
    const remaining = num(d, 'remainingBytes');
    progress = { bytes, ...(total === undefined ? {} : { totalBytes: total }), ...(rate === undefined ? {} : { mbPerSec: rate }), ...(remaining === undefined ? {} : { remainingBytes: remaining }) };
  }
  return { seq, ...(progress === undefined ? {} : { progress }) };
}

export function parseResult(r: Record<string, unknown>, migrationId: string, fallbackChannel: string): MigrationResult {
  const channel = typeof r['channel'] === 'string' && r['channel'].length <= 32 ? r['channel'] : fallbackChannel;
  return {
    migrationId, channel, bytes: num(r, 'bytes') ?? 0, seconds: num(r, 'seconds') ?? 0, mbPerSec: num(r, 'mbPerSec') ?? 0,
    downtimeMs: num(r, 'downtimeMs') ?? 0, encrypted: r['encrypted'] === true,
  };
}

/**
 * Source: streams the running VM to the endpoint and answers when done. Meanwhile the host's
 * `vm.migration.progress` events (≤ every 500 ms) are read and passed to `onProgress`.
 */
export async function runSourceMigrate(
  gw: HostGateway, hostId: string, vmId: string, spec: StreamSpec & { endpoint: Endpoint },
  onProgress: (p: MigrationProgress) => void, pollMs = 500,
): Promise<MigrationResult> {
  let cursor = await eventCursor(gw, hostId).catch(() => 0);
  let done = false;
  const poll = (async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, pollMs));
      if (done) return;
      try {
        const r = progressOf(await gw.call(hostId, 'GET', `/v1/events?after=${cursor}`), spec.migrationId);
        cursor = Math.max(cursor, r.seq);
        if (r.progress !== undefined) onProgress(r.progress);
      } catch {
        // progress is best effort; the migrate call's answer is what counts
      }
    }
  })();
  try {
    const r = await gw.call<Record<string, unknown>>(hostId, 'POST', `/v1/vms/${vmId}/migrate`, {
      migrationId: spec.migrationId, endpoint: spec.endpoint, channel: spec.channel, ...(spec.secret ?? {}),
    });
    return parseResult(r, spec.migrationId, spec.channel);
  } finally {
    done = true;
    await poll;
  }
}

/** Storage migration on one host: the VM's files to another datastore (its mount name there). */
export async function relocate(gw: HostGateway, hostId: string, vmId: string, datastore: string): Promise<{ vmxPath: string; bytes: number; seconds: number }> {
  const r = await gw.call<Record<string, unknown>>(hostId, 'POST', `/v1/vms/${vmId}/relocate`, { datastore });
  const vmxPath = r['vmxPath'];
  if (typeof vmxPath !== 'string' || vmxPath.length > 4096 || !vmxPath.startsWith('/')) throw bad('vmxPath');
  return { vmxPath, bytes: num(r, 'bytes') ?? 0, seconds: num(r, 'seconds') ?? 0 };
}
