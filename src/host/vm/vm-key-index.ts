import { readVmx, readVmxSync, type VmxDocument } from '../vm-files/vmx.js';

/** What the index holds of one registered VM, all from its .vmx clear part (no key needed). */
export interface IndexedVm {
  readonly name: string;
  /** Every KEK id the VM needs: keySafe.keyId, then keySafe.otherKeyIds; [] when not encrypted. */
  readonly keyIds: readonly string[];
  /** The .vmx could not be read: listed by no key (no pushed key would unlock it). */
  readonly unreadable?: true;
}

export function indexEntryOf(doc: VmxDocument): IndexedVm {
  const ks = doc.keySafe;
  return { name: doc.name, keyIds: ks === undefined ? [] : [...new Set([ks.keyId, ...(ks.otherKeyIds ?? [])])] };
}

/** Reads a .vmx clear part into an index entry; an unreadable file gives an `unreadable` entry. */
export async function readIndexEntry(vmxPath: string): Promise<IndexedVm> {
  try {
    return indexEntryOf(await readVmx(vmxPath));
  } catch {
    return { name: '?', keyIds: [], unreadable: true };
  }
}

function readIndexEntrySync(vmxPath: string): IndexedVm {
  try {
    return indexEntryOf(readVmxSync(vmxPath));
  } catch {
    return { name: '?', keyIds: [], unreadable: true };
  }
}

/**
 * Which registered VM needs which KEK ids, in memory, with the reverse map key id → VMs.
 * Built once when the agent starts and kept in step by every operation that adds, removes
 * or rewrites a VM, so a key push and the locked-VM list cost O(keys pushed + VMs affected)
 * instead of re-reading every .vmx of the host (vCenter-scale hosts: thousands of VMs).
 */
export class VmKeyIndex {
  readonly #vms = new Map<string, IndexedVm>();
  readonly #byKey = new Map<string, Set<string>>();

  /**
   * Builds the index from `vms` (host.json order) when the agent starts, before it serves:
   * synchronous reads (measured: 4,500 .vmx in ≈ 0.1 s instead of ≈ 0.4 s of CPU with five
   * async steps each), which block nothing yet.
   */
  static build(vms: ReadonlyArray<{ readonly uuid: string; readonly vmx: string }>): VmKeyIndex {
    const index = new VmKeyIndex();
    for (const v of vms) index.set(v.uuid, readIndexEntrySync(v.vmx));
    return index;
  }

  set(uuid: string, entry: IndexedVm): void {
    this.delete(uuid);
    this.#vms.set(uuid, entry);
    for (const k of entry.keyIds) {
      let set = this.#byKey.get(k);
      if (set === undefined) this.#byKey.set(k, (set = new Set()));
      set.add(uuid);
    }
  }

  delete(uuid: string): void {
    const old = this.#vms.get(uuid);
    if (old === undefined) return;
    this.#vms.delete(uuid);
    for (const k of old.keyIds) {
      const set = this.#byKey.get(k);
      set?.delete(uuid);
      if (set?.size === 0) this.#byKey.delete(k);
    }
  }

  get(uuid: string): IndexedVm | undefined {
    return this.#vms.get(uuid);
  }

  get size(): number {
    return this.#vms.size;
  }

  /** Every key id some registered VM needs. */
  keyIds(): string[] {
    return [...this.#byKey.keys()];
  }

  /** VMs that need at least one of `keyIds`. */
  needing(keyIds: Iterable<string>): string[] {
    const out = new Set<string>();
    for (const k of keyIds) for (const uuid of this.#byKey.get(k) ?? []) out.add(uuid);
    return [...out];
  }

  isLocked(uuid: string, has: (keyId: string) => boolean): boolean {
    return (this.#vms.get(uuid)?.keyIds ?? []).some((k) => !has(k));
  }

  /** VMs with a needed key that `has` lacks: one lookup per distinct key id, not per VM. */
  locked(has: (keyId: string) => boolean): string[] {
    const out = new Set<string>();
    for (const [k, uuids] of this.#byKey) if (!has(k)) for (const u of uuids) out.add(u);
    return [...out];
  }

  /**
   * VMs a push of `freshKeyIds` (keys that were not in the cache before) has just unlocked:
   * they need one of them and now have every key they need.
   */
  unlockedBy(freshKeyIds: Iterable<string>, has: (keyId: string) => boolean): string[] {
    return this.needing(freshKeyIds).filter((u) => !this.isLocked(u, has));
  }
}
