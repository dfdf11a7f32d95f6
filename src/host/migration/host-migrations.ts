import { HostError } from '../errors.js';
import type { HostVms } from '../vm/host-vms.js';
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

  constructor(vms: HostVms, opts: MigrationOptions) {
    this.vms = vms;
    this.opts = opts;
    services.set(vms, this);
  }

  capability(): MigrationCapability {
    return this.opts.encryption
      ? { encryption: true, channels: [MigrationChannel.TUNNEL, MigrationChannel.QEMU_PSK, MigrationChannel.PLAIN] }
      : { encryption: false, channels: [MigrationChannel.PLAIN] };
  }

  /** Refuses an encrypted channel on a host that cannot encrypt migrations. */
  requireChannel(channel: MigrationChannel): void {
    if (!this.capability().channels.includes(channel)) throw new HostError('HOST_RULE', `this host cannot use migration channel '${channel}' (it runs with --no-migrate-encryption)`);
  }

  async incoming(spec: IncomingSpec): Promise<{ migrationId: string; endpoint: { host: string; port: number } }> {
    this.requireChannel(spec.channel);
    throw new HostError('HOST_MIGRATION_FAILED', 'incoming migration not implemented yet');
  }

  async migrate(uuid: string, spec: MigrateSpec): Promise<MigrateResult> {
    this.requireChannel(spec.channel);
    throw new HostError('HOST_MIGRATION_FAILED', `migration of ${uuid} not implemented yet`);
  }

  async abort(migrationId: string): Promise<{ migrationId: string; aborted: boolean }> {
    return { migrationId, aborted: false };
  }

  async relocate(uuid: string, datastore: string): Promise<{ vmxPath: string; bytes: number; seconds: number }> {
    throw new HostError('HOST_MIGRATION_FAILED', `relocate of ${uuid} to ${datastore} not implemented yet`);
  }
}
