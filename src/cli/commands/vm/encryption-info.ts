import type { HostInfo, VmInfo } from '../../manager-client/records.js';

/** GET /api/vms/ID/encryption: the manager's Get-VMEncryptionInfo, read from the host. */
export interface ManagerEncryptionInfo {
  readonly vmId: string;
  readonly name: string;
  readonly encrypted: boolean;
  readonly locked: boolean;
  readonly lockReason?: string;
  readonly policy: { readonly id?: string; readonly name?: string; readonly encryption?: boolean; readonly providerId?: string };
  readonly compliance: { readonly status?: string; readonly reason?: string };
  readonly providerId?: string;
  readonly keyId?: string;
  readonly mixedKeys: boolean;
  readonly disks: readonly {
    readonly id?: string; readonly sizeBytes?: number; readonly encrypted?: boolean;
    readonly layers?: readonly { readonly file?: string; readonly format?: string; readonly keyId?: string }[];
  }[];
  readonly snapshots?: readonly { readonly id?: string; readonly name?: string; readonly parentId?: string }[];
  readonly keys: readonly { readonly providerId?: string; readonly keyId?: string; readonly usedBy?: readonly string[] }[];
}

export interface LayerView {
  readonly index: number;
  readonly file: string | null;
  readonly format: string | null;
  readonly encrypted: boolean;
  readonly providerId: string | null;
  readonly keyId: string | null;
}

export interface DiskView {
  readonly id: string;
  readonly sizeBytes: number | null;
  readonly encrypted: boolean;
  readonly layers: readonly LayerView[];
}

/** `vm info --json`: Get-VMEncryptionInfo's answer, with the host, power and lock state beside it. */
export interface VmEncryptionInfo {
  readonly vm: { readonly id: string; readonly name: string };
  readonly host: { readonly id: string; readonly name: string | null; readonly connectionState: string | null };
  readonly powerState: string;
  readonly policy: { readonly id: string; readonly name: string; readonly encryption: boolean };
  readonly compliance: string;
  readonly complianceReason: string | null;
  readonly encrypted: boolean;
  readonly locked: boolean;
  readonly lockReason: string | null;
  readonly provider: string | null;
  readonly keyId: string | null;
  readonly mixedKeys: boolean;
  readonly disks: readonly DiskView[];
  readonly snapshots: NonNullable<ManagerEncryptionInfo['snapshots']>;
  readonly keys: ManagerEncryptionInfo['keys'];
  readonly operation: NonNullable<VmInfo['operation']> | null;
}

/** Joins the VM record (host, power, operation), its host and the manager's encryption info. */
export function vmEncryptionInfo(vm: VmInfo, enc: ManagerEncryptionInfo, host: HostInfo | undefined): VmEncryptionInfo {
  const providerOf = (keyId: string | undefined): string | null =>
    keyId === undefined ? null : (enc.keys.find((k) => k.keyId === keyId)?.providerId ?? enc.providerId ?? null);
  return {
    vm: { id: vm.id, name: vm.name },
    host: { id: vm.hostId, name: host?.name ?? null, connectionState: host?.connectionState ?? null },
    powerState: vm.observed.powerState,
    policy: { id: enc.policy.id ?? vm.desired.policyId, name: enc.policy.name ?? vm.desired.policyName, encryption: enc.policy.encryption ?? vm.desired.encryption },
    compliance: enc.compliance.status ?? vm.compliance.status,
    complianceReason: enc.compliance.reason ?? vm.compliance.reason ?? null,
    encrypted: enc.encrypted,
    locked: enc.locked,
    lockReason: enc.lockReason ?? null,
    provider: enc.providerId ?? null,
    keyId: enc.keyId ?? null,
    mixedKeys: enc.mixedKeys,
    disks: enc.disks.map((d, i) => ({
      id: d.id ?? `disk${i}`,
      sizeBytes: d.sizeBytes ?? null,
      encrypted: d.encrypted ?? (d.layers ?? []).some((l) => l.keyId !== undefined),
      layers: (d.layers ?? []).map((l, n) => ({
        index: n, file: l.file ?? null, format: l.format ?? null, encrypted: l.keyId !== undefined,
        providerId: providerOf(l.keyId), keyId: l.keyId ?? null,
      })),
    })),
    snapshots: enc.snapshots ?? [],
    keys: enc.keys,
    operation: vm.operation ?? null,
  };
}
