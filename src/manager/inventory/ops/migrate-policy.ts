import { refuse, VmRule } from './rules.js';
import type { MigrateEncryption } from './vm-settings-store.js';

/** What a host agent says it can do for migrations (`GET /v1/host` → `migration`). */
export interface MigrationCapability {
  readonly encryption: boolean;
  /** Channels the agent can use, its preferred first: "tunnel", "qemu-psk", "plain". */
  readonly channels: readonly string[];
}

export const NO_MIGRATION: MigrationCapability = { encryption: false, channels: [] };

export type MigrationChannel = 'tunnel' | 'qemu-psk' | 'plain';
const ENCRYPTED_CHANNELS: readonly MigrationChannel[] = ['tunnel', 'qemu-psk'];

export interface ChannelChoice {
  readonly channel: MigrationChannel;
  readonly encrypted: boolean;
  /** Set when an opportunistic VM falls back to plain: why (for the `vm.migration.plain` warning). */
  readonly fellBack?: string;
}

/** Reads `migration` of a host's `GET /v1/host` reply, bounded; anything else = cannot. */
export function parseCapability(hostInfo: unknown): MigrationCapability {
  const m = (hostInfo as { migration?: unknown } | null)?.migration;
  if (typeof m !== 'object' || m === null) return NO_MIGRATION;
  const o = m as { encryption?: unknown; channels?: unknown };
  const channels = Array.isArray(o.channels) ? o.channels.filter((c): c is string => typeof c === 'string' && c.length <= 32).slice(0, 16) : [];
  return { encryption: o.encryption === true, channels };
}

const why = (src: MigrationCapability, dst: MigrationCapability, names: { source: string; destination: string }): string => {
  const unable = [src.encryption ? undefined : `host ${names.source}`, dst.encryption ? undefined : `host ${names.destination}`].filter((x) => x !== undefined);
  return unable.length > 0 ? `${unable.join(' and ')} cannot encrypt migrations` : 'the hosts share no encrypted channel';
};

/**
 * The migrateEncryption matrix (seed 002: encrypted vMotion's three settings). Encrypted VMs
 * always migrate encrypted; `disabled` migrates plain; `opportunistic` encrypts when both hosts
 * can, else plain with a warning; `required` (and any encrypted VM) is refused when either
 * host cannot. The channel is the source's first encrypted one the destination also has.
 */
export function chooseChannel(
  setting: MigrateEncryption,
  vmEncrypted: boolean,
  src: MigrationCapability,
  dst: MigrationCapability,
  names: { readonly vm: string; readonly source: string; readonly destination: string },
): ChannelChoice {
  if (setting === 'disabled' && !vmEncrypted) return { channel: 'plain', encrypted: false };
  const shared = src.encryption && dst.encryption
    ? ENCRYPTED_CHANNELS.filter((c) => src.channels.includes(c) && dst.channels.includes(c)).sort((a, b) => src.channels.indexOf(a) - src.channels.indexOf(b))[0]
    : undefined;
  if (shared !== undefined) return { channel: shared, encrypted: true };
  const reason = why(src, dst, names);
  if (vmEncrypted) throw refuse(VmRule.MIGRATE_ENCRYPTION, `VM ${names.vm} is encrypted and migrates only encrypted, but ${reason}`);
  if (setting === 'required') throw refuse(VmRule.MIGRATE_ENCRYPTION, `VM ${names.vm} has migrateEncryption required, but ${reason}`);
  return { channel: 'plain', encrypted: false, fellBack: reason };
}
