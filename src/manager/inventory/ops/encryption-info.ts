import type { ComplianceResult } from '../compliance.js';
import type { StoragePolicy } from '../store/policy-store.js';
import type { VmDetail } from '../store/vm-store.js';
import type { VmFacts } from './vm-facts.js';

/** Get-VMEncryptionInfo: what protects the VM and each disk, read from the host's .vmx. */
export interface EncryptionInfo {
  readonly vmId: string;
  readonly name: string;
  readonly policy: { readonly id: string; readonly name: string; readonly encryption: boolean; readonly providerId?: string };
  readonly encrypted: boolean;
  readonly locked: boolean;
  readonly lockReason?: string;
  readonly compliance: ComplianceResult;
  readonly providerId?: string;
  readonly keyId?: string;
  readonly mixedKeys: boolean;
  readonly disks: ReadonlyArray<{
    readonly id: string;
    readonly sizeBytes: number;
    readonly encrypted: boolean;
    readonly layers: ReadonlyArray<{ readonly file: string; readonly format: string; readonly keyId?: string }>;
  }>;
  readonly snapshots: ReadonlyArray<{ readonly id: string; readonly name: string; readonly parentId?: string }>;
  /** Which parts use which KEK: 'vm' (home: .vmx, NVRAM, log) and DISK/LAYER-FILE. */
  readonly keys: ReadonlyArray<{ readonly providerId: string; readonly keyId: string; readonly usedBy: readonly string[] }>;
}

export function encryptionInfo(vm: VmDetail, policy: StoragePolicy, compliance: ComplianceResult, f: VmFacts): EncryptionInfo {
  const use = new Map<string, string[]>();
  const add = (keyId: string | undefined, part: string): void => {
    if (keyId === undefined) return;
    use.set(keyId, [...(use.get(keyId) ?? []), part]);
  };
  if (f.encrypted) add(f.keyId, 'vm');
  const disks = f.disks.map((d) => {
    const layers = d.layers.map((l) => {
      const enc = f.encrypted && l.format !== 'raw';
      const keyId = enc ? l.keyId ?? f.keyId : undefined;
      add(keyId, `${d.id}/${l.file}`);
      return { file: l.file, format: l.format, ...(keyId === undefined ? {} : { keyId }) };
    });
    return { id: d.id, sizeBytes: d.sizeBytes, encrypted: d.encrypted ?? layers.some((l) => l.keyId !== undefined), layers };
  });
  // a locked VM shows only its home key; the inventory remembers the disks' keys
  if (f.cryptoState === 'locked') for (const k of vm.keys) if (k.part !== 'vm') add(k.key.keyId, k.part);
  const provider = f.providerId ?? vm.keys[0]?.key.providerId ?? '';
  return {
    vmId: vm.id, name: vm.name,
    policy: { id: policy.id, name: policy.name, encryption: policy.encryption, ...(policy.providerId === undefined ? {} : { providerId: policy.providerId }) },
    encrypted: f.encrypted, locked: f.cryptoState === 'locked', ...(f.lockReason === undefined || f.cryptoState !== 'locked' ? {} : { lockReason: f.lockReason }),
    compliance,
    ...(f.providerId === undefined ? {} : { providerId: f.providerId }),
    ...(f.keyId === undefined ? {} : { keyId: f.keyId }),
    mixedKeys: f.mixedKeys,
    disks,
    snapshots: f.snapshots.map((s) => ({ id: s.id, name: s.name, ...(s.parentId === undefined ? {} : { parentId: s.parentId }) })),
    keys: [...use.entries()].map(([keyId, usedBy]) => ({ providerId: provider, keyId, usedBy })),
  };
}
