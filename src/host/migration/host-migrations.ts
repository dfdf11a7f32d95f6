import { accessSync, constants } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';
import { HostError } from '../errors.js';
import type { HostVms } from '../vm/host-vms.js';
import { readVmx } from '../vm-files/vmx.js';
import { IncomingMigration } from './incoming.js';
import { migrateOut } from './outgoing.js';
import { nativeRelay } from './relay-native.js';
import { relocateVm } from './relocate.js';
import { MigrationChannel, type IncomingSpec, type MigrateResult, type MigrateSpec } from './migration-spec.js';

export interface MigrationCapability {
  readonly encryption: boolean;
  readonly channels: readonly MigrationChannel[];
}

export interface MigrationOptions {
  /** False with `--no-migrate-encryption`: only plain migrations (a host that cannot encrypt them). */
  readonly encryption: boolean;
  /** Address the destination listens on for the stream (the agent's listen address). */
  readonly listenHost: string;
  /** Test hooks (guest RAM in a file the test can fill and read) honoured only with --allow-crash. */
  readonly allowCrash: boolean;
}

const services = new WeakMap<HostVms, HostMigrations>();

/** The migration service of the agent whose VMs these are. */
export function migrationsOf(vms: HostVms): HostMigrations {
  const m = services.get(vms);
  if (m === undefined) throw new HostError('HOST_NOT_FOUND', 'migration is not available on this host');
  return m;
}

/** Live migration (both ends) and storage migration of this host's VMs. */
export class HostMigrations {
  readonly vms: HostVms;
  readonly opts: MigrationOptions;
  readonly #incoming = new Map<string, IncomingMigration>();
  /** PSK files live here for a moment: tmpfs when the host has one. */
  readonly #tmpBase: string;

  constructor(vms: HostVms, opts: MigrationOptions) {
    this.vms = vms;
    this.opts = opts;
    services.set(vms, this);
    this.#tmpBase = writable('/dev/shm') ? '/dev/shm' : vms.inventory.ctx.runDir;
    // TEST-ONLY: guest RAM in a file the test fills and compares across a migration
    const ramDir = process.env['VMCRYPT_TEST_RAM_DIR'];
    if (opts.allowCrash && ramDir !== undefined && isAbsolute(ramDir)) vms.runtime.ramDir = ramDir;
  }

  #deps(): { events: HostVms['inventory']['ctx']['events']; runDir: string; tmpBase: string } {
    const ctx = this.vms.inventory.ctx;
    return { events: ctx.events, runDir: ctx.runDir, tmpBase: this.#tmpBase };
  }

  capability(): MigrationCapability {
    if (!this.opts.encryption) return { encryption: false, channels: [MigrationChannel.PLAIN] };
    // preferred first (docs/migration.md): the tunnel with its native relay costs less CPU per
    // byte than QEMU's TLS; without the relay (not built, VMCRYPT_RELAY=node) it costs ~2.5× more
    return nativeRelay().addon !== undefined
      ? { encryption: true, channels: [MigrationChannel.TUNNEL, MigrationChannel.QEMU_PSK, MigrationChannel.PLAIN] }
      : { encryption: true, channels: [MigrationChannel.QEMU_PSK, MigrationChannel.TUNNEL, MigrationChannel.PLAIN] };
  }

  /** Refuses an encrypted channel on a host that cannot encrypt migrations. */
  requireChannel(channel: MigrationChannel): void {
    if (!this.capability().channels.includes(channel)) throw new HostError('HOST_RULE', `this host cannot use migration channel '${channel}' (it runs with --no-migrate-encryption)`);
  }

  /**
   * Destination: registers the VM from its .vmx (unless it already is, powered off), starts its
   * QEMU for the stream and listens. The VM's operation queue is held until the migration ends.
   */
  async incoming(spec: IncomingSpec): Promise<{ migrationId: string; endpoint: { host: string; port: number } }> {
    this.requireChannel(spec.channel);
    const id = spec.migrationId;
    if (this.#incoming.has(id)) throw new HostError('HOST_CONFLICT', `migration ${id} is already in progress here`);
    const path = this.#onDatastore(spec.vmxPath);
    const doc = await readVmx(path);
    if (doc.uuid !== spec.vmId) throw new HostError('HOST_BAD_REQUEST', `${path} holds VM ${doc.uuid}, not ${spec.vmId}`);
    refusePlainEncrypted(doc.keySafe !== undefined, spec.channel);
    const inv = this.vms.inventory;
    const uuid = doc.uuid;
    let registeredHere = false;
    const current = this.#vmxOf(uuid);
    if (current === undefined) {
      await this.vms.register(path, id);
      registeredHere = true;
    } else if (current !== path) throw new HostError('HOST_CONFLICT', `VM ${uuid} is registered here from ${current}`);
    else if (inv.runtime.isRunning(uuid)) throw new HostError('HOST_POWER_STATE', `VM ${uuid} already runs on this host`);
    const drop = async (): Promise<void> => {
      this.#incoming.delete(id); // from now on an abort finds nothing to do
      if (inv.runtime.isRunning(uuid)) {
        inv.runtime.migrationHandle(uuid).depart();
        await inv.runtime.powerOff(uuid);
      }
      if (registeredHere) await this.vms.unregister(uuid).catch(() => undefined);
    };
    let ready: (port: number) => void = () => undefined;
    let failed: (err: unknown) => void = () => undefined;
    const port = new Promise<number>((res, rej) => {
      ready = res;
      failed = rej;
    });
    const op = inv.serial(uuid, async () => {
      try {
        await inv.runtime.powerOn(path, true);
        const m = new IncomingMigration({ ...this.#deps(), listenHost: this.opts.listenHost, drop }, inv.runtime.migrationHandle(uuid), spec);
        this.#incoming.set(id, m);
        ready(await m.start(spec.key));
        await m.done;
        if (registeredHere) await this.vms.arrived(uuid);
      } catch (err) {
        await drop();
        failed(err);
      } finally {
        this.#incoming.delete(id);
      }
    });
    op.catch(() => undefined);
    return { migrationId: id, endpoint: { host: this.opts.listenHost, port: await port } };
  }

  /** Source: migrates the running VM; on success its QEMU here stops and the VM is unregistered (files kept). */
  async migrate(uuid: string, spec: MigrateSpec): Promise<MigrateResult> {
    this.requireChannel(spec.channel);
    const inv = this.vms.inventory;
    inv.vmxOf(uuid);
    return inv.serial(uuid, async () => {
      const doc = await readVmx(inv.vmxOf(uuid));
      refusePlainEncrypted(doc.keySafe !== undefined, spec.channel);
      const state = inv.runtime.powerState(uuid);
      if (state !== 'poweredOn') throw new HostError('HOST_POWER_STATE', `live migration needs a running VM (VM ${uuid} is ${state}; a powered-off VM on a shared datastore moves by registering it)`);
      const r = await migrateOut(this.#deps(), inv.runtime.migrationHandle(uuid), uuid, spec);
      await inv.runtime.powerOff(uuid);
      await this.vms.unregister(uuid);
      inv.ctx.events.post('vm.migratedAway', `VM ${doc.name} migrated to ${spec.endpoint.host}:${spec.endpoint.port} (${spec.channel})`, { vmUuid: uuid });
      return r;
    });
  }

  /** Destination: drops an incoming migration (idempotent). */
  async abort(migrationId: string): Promise<{ migrationId: string; aborted: boolean }> {
    const m = this.#incoming.get(migrationId);
    if (m === undefined) return { migrationId, aborted: false };
    await m.abort();
    return { migrationId, aborted: true };
  }

  /** Agent shutdown: every incoming VM is dropped (unregistered), so it is not left registered on two hosts. */
  async abortAll(): Promise<void> {
    await Promise.all([...this.#incoming.values()].map((m) => m.abort()));
  }

  /** Storage migration to another datastore of this host. */
  relocate(uuid: string, datastore: string): Promise<{ vmxPath: string; bytes: number; seconds: number }> {
    return relocateVm(this.vms, uuid, datastore);
  }

  #vmxOf(uuid: string): string | undefined {
    try {
      return this.vms.inventory.vmxOf(uuid);
    } catch {
      return undefined;
    }
  }

  /** The .vmx path, which must be absolute and on one of this host's datastores. */
  #onDatastore(vmxPath: string): string {
    if (!isAbsolute(vmxPath) || !vmxPath.endsWith('.vmx')) throw new HostError('HOST_BAD_REQUEST', "'vmxPath' must be the absolute path of a .vmx");
    const path = resolve(vmxPath);
    const stores = Object.values(this.vms.inventory.ctx.store.state.datastores);
    if (!stores.some((d) => path.startsWith(resolve(d) + sep))) throw new HostError('HOST_NOT_FOUND', `${path} is on none of this host's datastores`);
    return path;
  }
}

function refusePlainEncrypted(encrypted: boolean, channel: MigrationChannel): void {
  if (encrypted && channel === MigrationChannel.PLAIN) throw new HostError('HOST_RULE', 'an encrypted VM migrates only over an encrypted channel (tunnel or qemu-psk)');
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
