import { join } from 'node:path';
import { HostError } from '../errors.js';
import type { HostEvents } from '../events.js';
import { addPskCreds, MULTIFD_CHANNELS, queryMigration, setMigrationParameters, TERMINAL_STATES, type MigrationStatus } from '../qemu/migrate-qmp.js';
import type { QmpClient } from '../qemu/qmp.js';
import type { MigrationHandle } from '../vm/vm-runtime.js';
import { SourceTunnel } from './source-tunnel.js';
import type { Verdict } from './tunnel-io.js';
import { MigrationChannel, type MigrateResult, type MigrateSpec } from './migration-spec.js';

/** Poll interval of query-migrate, and the least time between two progress events. */
const POLL_MS = 100;
const PROGRESS_EVERY_MS = 500;
/** A migration that has not converged by then is cancelled (the VM stays here). */
export const MIGRATE_TIMEOUT_MS = 15 * 60_000;
/** How long the source waits for the destination's verdict once QEMU is done. */
const VERDICT_TIMEOUT_MS = 60_000;

export interface OutgoingDeps {
  readonly events: HostEvents;
  readonly runDir: string;
  /** Where the PSK directory is made (tmpfs when there is one). */
  readonly tmpBase: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function uriOf(e: { host: string; port: number }): string {
  return e.host.includes(':') ? `tcp:[${e.host}]:${e.port}` : `tcp:${e.host}:${e.port}`;
}

/**
 * Source side of a live migration of the running VM `uuid` (its QEMU behind `h`). Resolves
 * once the destination runs the VM (tunnel: after its sealed verdict); the caller then stops the
 * source QEMU and unregisters the VM. On any failure the VM runs here as before: the migration
 * is cancelled, a VM QEMU had paused for the switch-over is continued, the log resumes.
 */
export async function migrateOut(d: OutgoingDeps, h: MigrationHandle, uuid: string, spec: MigrateSpec): Promise<MigrateResult> {
  const id = spec.migrationId;
  const encrypted = spec.channel !== MigrationChannel.PLAIN;
  const credsId = `mig-tls-${id.slice(0, 8)}`;
  let credsAdded = false;
  let tunnel: SourceTunnel | undefined;
  await h.log.append(`migration ${id} to ${spec.endpoint.host}:${spec.endpoint.port} over channel ${spec.channel} started`);
  await h.log.pause();
  const t0 = Date.now();
  try {
    let uri = uriOf(spec.endpoint);
    if (spec.channel === MigrationChannel.QEMU_PSK) {
      const creds = await addPskCreds(h.qmp, credsId, 'client', keyOf(spec), d.tmpBase);
      credsAdded = true;
      await creds.remove(); // a TLS client reads its PSK when the object is made
    } else if (spec.channel === MigrationChannel.TUNNEL) {
      const path = join(d.runDir, `mig-${id.slice(0, 8)}.sock`);
      tunnel = await SourceTunnel.open({ key: keyOf(spec), nonce: nonceOf(spec), migrationId: id }, path, spec.endpoint);
      uri = `unix:${path}`;
    }
    await setMigrationParameters(h.qmp, credsAdded ? credsId : undefined, false, tunnel === undefined ? MULTIFD_CHANNELS : 0);
    await h.qmp.execute('migrate', { uri });
    const st = await follow(d, h.qmp, uuid, id, tunnel);
    if (tunnel !== undefined) {
      tunnel.finish();
      const v = await withTimeout(tunnel.verdict, VERDICT_TIMEOUT_MS, 'the destination gave no verdict');
      if (!v.ok) throw verdictError(v);
    }
    const seconds = (Date.now() - t0) / 1000;
    h.depart();
    return {
      migrationId: id, channel: spec.channel, bytes: st.transferred, seconds,
      mbPerSec: seconds > 0 ? Math.round((st.transferred / seconds / 1e6) * 10) / 10 : 0,
      downtimeMs: st.downtimeMs, encrypted,
    };
  } catch (err) {
    await tunnel?.close();
    await recover(h.qmp);
    await h.log.resume();
    const e = failure(err);
    await h.log.append(`migration ${id} failed, the VM stays on this host: ${e.message}`);
    throw e;
  } finally {
    await tunnel?.close();
    if (credsAdded) {
      await h.qmp.execute('migrate-set-parameters', { 'tls-creds': '' }).catch(() => undefined);
      await h.qmp.execute('object-del', { id: credsId }).catch(() => undefined);
    }
  }
}

/** Polls query-migrate until QEMU is done; progress events at most every 500 ms. */
async function follow(d: OutgoingDeps, qmp: QmpClient, uuid: string, id: string, tunnel: SourceTunnel | undefined): Promise<MigrationStatus> {
  const deadline = Date.now() + MIGRATE_TIMEOUT_MS;
  let lastEvent = 0;
  let tunnelError: unknown;
  tunnel?.verdict.then((v) => {
    if (!v.ok) tunnelError = verdictError(v);
  }, (err: unknown) => (tunnelError = err));
  for (;;) {
    const st = await queryMigration(qmp);
    if (st.status === 'completed') return st;
    if (st.status === 'failed' || st.status === 'cancelled') throw tunnelError ?? new HostError('HOST_MIGRATION_FAILED', `migration ${st.status}: ${st.error ?? 'QEMU gave no reason'}`);
    if (tunnelError !== undefined) throw tunnelError;
    if (Date.now() > deadline) throw new HostError('HOST_MIGRATION_FAILED', `migration did not complete within ${MIGRATE_TIMEOUT_MS / 60_000} min`);
    if (Date.now() - lastEvent >= PROGRESS_EVERY_MS && st.status === 'active') {
      lastEvent = Date.now();
      const mbPerSec = Math.round((st.mbps / 8) * 10) / 10;
      const extra = { vmUuid: uuid, vmId: uuid, migrationId: id, bytes: st.transferred, totalBytes: st.total, remainingBytes: st.remaining, mbPerSec };
      d.events.post('vm.migration.progress', `migration ${id}: ${Math.round(st.transferred / 1e6)} MB sent, ${Math.round(st.remaining / 1e6)} MB left`, extra);
    }
    await sleep(POLL_MS);
  }
}

/** Cancels a running migration and continues a VM QEMU paused for the switch-over. */
async function recover(qmp: QmpClient): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const st = await queryMigration(qmp).catch(() => undefined);
    if (st === undefined || st.status === 'none' || TERMINAL_STATES.includes(st.status)) break;
    await qmp.execute('migrate_cancel').catch(() => undefined);
    if (Date.now() > deadline) break;
    await sleep(50);
  }
  const run = (await qmp.execute('query-status').catch(() => undefined)) as { status?: string } | undefined;
  if (run?.status === 'postmigrate' || run?.status === 'finish-migrate' || run?.status === 'paused') {
    await qmp.execute('cont').catch(() => undefined);
  }
}

function verdictError(v: Verdict): HostError {
  const code = v.code === 'HOST_MIGRATION_STREAM_TAMPERED' ? 'HOST_MIGRATION_STREAM_TAMPERED' : 'HOST_MIGRATION_FAILED';
  return new HostError(code, `the destination refused the migration: ${v.message ?? 'no reason given'}`);
}

function failure(err: unknown): HostError {
  if (err instanceof HostError && (err.code === 'HOST_MIGRATION_FAILED' || err.code === 'HOST_MIGRATION_STREAM_TAMPERED')) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new HostError('HOST_MIGRATION_FAILED', `migration failed: ${msg}`, { cause: err });
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, rej) => (t = setTimeout(() => rej(new HostError('HOST_MIGRATION_FAILED', what)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

function keyOf(spec: MigrateSpec): Buffer {
  if (spec.key === undefined) throw new HostError('HOST_BAD_REQUEST', `channel ${spec.channel} needs the one-time key`);
  return spec.key.key;
}

function nonceOf(spec: MigrateSpec): Buffer {
  if (spec.key === undefined) throw new HostError('HOST_BAD_REQUEST', `channel ${spec.channel} needs the one-time key`);
  return spec.key.nonce;
}
