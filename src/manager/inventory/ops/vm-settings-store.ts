import type { Database } from 'better-sqlite3';

/** Manager-side facts about a VM that the encryption rules read (see migration inventory-002). */
export interface VmSettings {
  readonly hostsKeyServer: boolean;
  readonly hostsManager: boolean;
  readonly faultTolerance: boolean;
  readonly replication: boolean;
  readonly contentLibrary: boolean;
  readonly serialPorts: number;
  readonly parallelPorts: number;
  /** This VM is an instant clone of that VM. */
  readonly instantCloneOf?: string;
  /** Encrypted vMotion (issue 14): disabled | opportunistic (default) | required. */
  readonly migrateEncryption: MigrateEncryption;
}

export const MIGRATE_ENCRYPTION = ['disabled', 'opportunistic', 'required'] as const;
export type MigrateEncryption = (typeof MIGRATE_ENCRYPTION)[number];
const asMigrateEncryption = (v: string | null | undefined): MigrateEncryption =>
  (MIGRATE_ENCRYPTION as readonly string[]).includes(v ?? '') ? (v as MigrateEncryption) : 'opportunistic';

export const DEFAULT_SETTINGS: VmSettings = {
  hostsKeyServer: false, hostsManager: false, faultTolerance: false, replication: false, contentLibrary: false, serialPorts: 0, parallelPorts: 0,
  migrateEncryption: 'opportunistic',
};

interface Row {
  hosts_key_server: number; hosts_manager: number; fault_tolerance: number; replication: number; content_library: number;
  serial_ports: number; parallel_ports: number; instant_clone_of: string | null; migrate_encryption?: string | null;
}

export type SettingsPatch = Partial<Omit<VmSettings, 'instantCloneOf'>> & { instantCloneOf?: string | null };

export class VmSettingsStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  get(vmId: string): VmSettings {
    const r = this.#db.prepare('SELECT * FROM inv_vm_settings WHERE vm_id = ?').get(vmId) as Row | undefined;
    if (r === undefined) return DEFAULT_SETTINGS;
    return {
      hostsKeyServer: r.hosts_key_server === 1, hostsManager: r.hosts_manager === 1, faultTolerance: r.fault_tolerance === 1,
      replication: r.replication === 1, contentLibrary: r.content_library === 1, serialPorts: r.serial_ports, parallelPorts: r.parallel_ports,
      ...(r.instant_clone_of === null ? {} : { instantCloneOf: r.instant_clone_of }),
      migrateEncryption: asMigrateEncryption(r.migrate_encryption),
    };
  }

  set(vmId: string, patch: SettingsPatch): VmSettings {
    const cur = this.get(vmId);
    const n = { ...cur, ...patch };
    const ic = patch.instantCloneOf === undefined ? cur.instantCloneOf ?? null : patch.instantCloneOf;
    this.#db.prepare(`INSERT OR REPLACE INTO inv_vm_settings
      (vm_id, hosts_key_server, hosts_manager, fault_tolerance, replication, content_library, serial_ports, parallel_ports, instant_clone_of, migrate_encryption)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      vmId, n.hostsKeyServer ? 1 : 0, n.hostsManager ? 1 : 0, n.faultTolerance ? 1 : 0, n.replication ? 1 : 0, n.contentLibrary ? 1 : 0,
      n.serialPorts ?? 0, n.parallelPorts ?? 0, ic, n.migrateEncryption ?? 'opportunistic',
    );
    return this.get(vmId);
  }

  /** Instant clones of this VM still in the inventory. */
  instantChildren(vmId: string): string[] {
    return (this.#db.prepare('SELECT vm_id FROM inv_vm_settings WHERE instant_clone_of = ?').all(vmId) as { vm_id: string }[]).map((r) => r.vm_id);
  }
}
