import { join } from 'node:path';
import { HostError } from '../errors.js';
import type { HostEvents } from '../events.js';
import { addPskCreds, listenIncoming, MULTIFD_CHANNELS, queryMigration, setMigrationParameters } from '../qemu/migrate-qmp.js';
import type { MigrationHandle } from '../vm/vm-runtime.js';
import { DestinationTunnel } from './destination-tunnel.js';
import { MigrationChannel, type IncomingSpec } from './migration-spec.js';

/** With no stream by then, the destination drops the incoming VM. */
export const NO_STREAM_TIMEOUT_MS = 60_000;
const POLL_MS = 100;

export interface IncomingDeps {
  readonly events: HostEvents;
  readonly runDir: string;
  readonly tmpBase: string;
  readonly listenHost: string;
  /** Stops the incoming QEMU and unregisters the VM (files untouched). */
  drop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Destination side of one live migration: the VM's QEMU was started with `-incoming defer -S`
 * (images inactive, log paused). `start()` makes it listen and returns the port; `done` settles
 * when the VM runs here (QEMU loaded the whole state — and, for the tunnel, the last sealed frame
 * was verified — then the log is opened and QEMU continued) or when it was dropped.
 */
export class IncomingMigration {
  readonly spec: Omit<IncomingSpec, 'key'>;
  done: Promise<void> = Promise.resolve();
  readonly #d: IncomingDeps;
  readonly #h: MigrationHandle;
  #tunnel: DestinationTunnel | undefined;
  #removeCreds: (() => Promise<void>) | undefined;
  #abort: ((err: HostError) => void) | undefined;

  constructor(d: IncomingDeps, h: MigrationHandle, spec: IncomingSpec) {
    const { key: _k, ...rest } = spec;
    this.spec = rest;
    this.#d = d;
    this.#h = h;
  }

  /** Listens for the stream; `key` is copied where needed (the caller zeroes its own). */
  async start(key: IncomingSpec['key']): Promise<number> {
    const { qmp } = this.#h;
    const id = this.spec.migrationId;
    const credsId = `mig-tls-${id.slice(0, 8)}`;
    let port: number | undefined;
    if (this.spec.channel === MigrationChannel.TUNNEL) {
      if (key === undefined) throw new HostError('HOST_BAD_REQUEST', 'channel tunnel needs the one-time key');
      const qemuPath = join(this.#d.runDir, `mig-in-${id.slice(0, 8)}.sock`);
      await setMigrationParameters(qmp, undefined, true);
      await listenIncoming(qmp, `unix:${qemuPath}`);
      this.#tunnel = await DestinationTunnel.listen({ key: key.key, nonce: key.nonce, migrationId: id }, this.#d.listenHost, qemuPath);
      port = this.#tunnel.port;
    } else {
      if (this.spec.channel === MigrationChannel.QEMU_PSK) {
        if (key === undefined) throw new HostError('HOST_BAD_REQUEST', 'channel qemu-psk needs the one-time key');
        this.#removeCreds = (await addPskCreds(qmp, credsId, 'server', key.key, this.#d.tmpBase)).remove;
      }
      await setMigrationParameters(qmp, this.#removeCreds === undefined ? undefined : credsId, true, MULTIFD_CHANNELS);
      const host = this.#d.listenHost.includes(':') ? `[${this.#d.listenHost}]` : this.#d.listenHost;
      port = await listenIncoming(qmp, `tcp:${host}:0`);
    }
    if (port === undefined) throw new HostError('HOST_MIGRATION_FAILED', 'the incoming QEMU reported no listening port');
    this.done = this.#watch();
    this.done.catch(() => undefined);
    return port;
  }

  /** Drops the incoming VM (DELETE /v1/migrations/:id); resolves once it is gone. */
  async abort(): Promise<void> {
    this.#abort?.(new HostError('HOST_MIGRATION_FAILED', 'incoming migration aborted'));
    await this.done.catch(() => undefined);
  }

  async #watch(): Promise<void> {
    const { qmp, log } = this.#h;
    const id = this.spec.migrationId;
    let aborted: HostError | undefined;
    this.#abort = (e) => (aborted ??= e);
    let streaming = false;
    this.#tunnel?.onConnect(() => (streaming = true));
    let frameOk = this.#tunnel === undefined;
    let frameErr: unknown;
    this.#tunnel?.lastFrame.then(() => (frameOk = true), (e: unknown) => (frameErr = e));
    const noStreamBy = Date.now() + NO_STREAM_TIMEOUT_MS;
    try {
      let loaded = false;
      while (!loaded || !frameOk) {
        if (aborted !== undefined) throw aborted;
        if (frameErr !== undefined) throw frameErr;
        const st = await queryMigration(qmp);
        if (st.status === 'active' || st.status === 'completed') {
          streaming = true;
          // a TLS server reads its PSK at each handshake; QEMU turns active once every
          // (multifd) channel is connected and handshaken
          await this.#removeCreds?.();
        }
        if (st.status === 'failed' || st.status === 'cancelled') throw new HostError('HOST_MIGRATION_FAILED', `incoming migration ${st.status}: ${st.error ?? 'QEMU gave no reason'}`);
        if (st.status === 'completed') loaded = true;
        if (!streaming && Date.now() > noStreamBy) throw new HostError('HOST_MIGRATION_FAILED', `no migration stream arrived within ${NO_STREAM_TIMEOUT_MS / 1000} s`);
        if (!loaded || !frameOk) await sleep(POLL_MS);
      }
      // the VM is ours now: open its log, start it (the images activate here, late-block-activate)
      await log.resume();
      await log.append(`migration ${id} received: running on this host`);
      await qmp.execute('cont');
      this.#tunnel?.sendVerdict({ ok: true });
      this.#d.events.post('vm.poweredOn', `VM ${this.spec.vmId} runs on this host after migration ${id}`, { vmUuid: this.spec.vmId });
    } catch (err) {
      const e = err instanceof HostError ? err : new HostError('HOST_MIGRATION_FAILED', String(err));
      this.#tunnel?.sendVerdict({ ok: false, code: e.code, message: e.message });
      this.#d.events.post('vm.migration.incomingFailed', `incoming migration ${id} dropped: ${e.message}`, { vmUuid: this.spec.vmId });
      await this.#d.drop().catch(() => undefined);
      throw e;
    } finally {
      this.#tunnel?.close();
      await this.#removeCreds?.();
    }
  }
}
