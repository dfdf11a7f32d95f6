import { HostError } from '../errors.js';

/**
 * The sensitive part of a VM's configuration. For an encrypted VM it lives only in the
 * .vmx `encrypted` section (a gcm-seal box under the VM DEK, bound to the uuid); for a plain VM in `config`.
 */
export interface DiskLayer {
  /** File name inside the VM directory. */
  readonly file: string;
  readonly format: 'luks' | 'qcow2' | 'raw';
  /** Wrapped layer DEK (encrypted VMs): wrapDek(KEK, DEK, keyId). */
  readonly wrappedDek?: string;
}

export interface VmDisk {
  readonly id: string;
  readonly sizeBytes: number;
  /** Base first, active layer last. */
  readonly layers: readonly DiskLayer[];
}

export interface VmSnapshot {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  /** Layers [0, layerCount) of every disk hold this snapshot's state (frozen). */
  readonly layerCount: number;
}

export interface VmConfig {
  readonly memoryMiB: number;
  readonly disks: readonly VmDisk[];
  readonly snapshots: readonly VmSnapshot[];
  readonly nvram: string;
  readonly log: string;
  readonly kernel?: string;
  readonly initrd?: string;
  readonly append?: string;
  readonly serialPorts: number;
  readonly parallelPorts: number;
}

export const LIMITS = {
  maxDisks: 8,
  maxLayers: 32,
  maxSnapshots: 31,
  minMemoryMiB: 16,
  maxMemoryMiB: 65536,
  maxDiskBytes: 2 ** 44,
  maxPorts: 4,
  maxStringLength: 4096,
} as const;

const FILE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

function bad(what: string): never {
  throw new HostError('HOST_VMX_INVALID', what);
}

function str(v: unknown, what: string, re?: RegExp): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > LIMITS.maxStringLength || (re !== undefined && !re.test(v))) bad(`${what} is invalid`);
  return v;
}

function int(v: unknown, min: number, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(`${what} must be an integer in [${min}, ${max}]`);
  return v;
}

function optStr(v: unknown, what: string): string | undefined {
  return v === undefined ? undefined : str(v, what);
}

/** Validates a parsed config (from a decrypted section or a plain .vmx) before any use. */
export function validateVmConfig(raw: unknown, encrypted: boolean): VmConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('config is not an object');
  const r = raw as Record<string, unknown>;
  if (!Array.isArray(r['disks']) || r['disks'].length > LIMITS.maxDisks) bad('config.disks is invalid');
  const disks = r['disks'].map((d: unknown, i: number): VmDisk => {
    if (typeof d !== 'object' || d === null) bad(`disk ${i} is invalid`);
    const dd = d as Record<string, unknown>;
    const layersRaw = dd['layers'];
    if (!Array.isArray(layersRaw) || layersRaw.length === 0 || layersRaw.length > LIMITS.maxLayers) bad(`disk ${i} layers are invalid`);
    const layers = layersRaw.map((l: unknown, j: number): DiskLayer => {
      if (typeof l !== 'object' || l === null) bad(`disk ${i} layer ${j} is invalid`);
      const ll = l as Record<string, unknown>;
      const format = ll['format'];
      if (format !== 'luks' && format !== 'qcow2' && format !== 'raw') bad(`disk ${i} layer ${j} format is invalid`);
      const file = str(ll['file'], `disk ${i} layer ${j} file`, FILE_RE);
      if (encrypted) {
        if (format === 'raw') bad(`disk ${i} layer ${j}: an encrypted VM has no raw layers`);
        return { file, format, wrappedDek: str(ll['wrappedDek'], `disk ${i} layer ${j} wrappedDek`) };
      }
      if (format === 'luks') bad(`disk ${i} layer ${j}: a plain VM has no luks layers`);
      return { file, format };
    });
    return {
      id: str(dd['id'], `disk ${i} id`, /^[a-z0-9-]{1,40}$/),
      sizeBytes: int(dd['sizeBytes'], 512, LIMITS.maxDiskBytes, `disk ${i} sizeBytes`),
      layers,
    };
  });
  if (!Array.isArray(r['snapshots']) || r['snapshots'].length > LIMITS.maxSnapshots) bad('config.snapshots is invalid');
  const snapshots = r['snapshots'].map((s: unknown, i: number): VmSnapshot => {
    if (typeof s !== 'object' || s === null) bad(`snapshot ${i} is invalid`);
    const ss = s as Record<string, unknown>;
    return {
      id: str(ss['id'], `snapshot ${i} id`, /^[a-z0-9-]{1,40}$/),
      name: str(ss['name'], `snapshot ${i} name`),
      createdAt: str(ss['createdAt'], `snapshot ${i} createdAt`),
      layerCount: int(ss['layerCount'], 1, LIMITS.maxLayers - 1, `snapshot ${i} layerCount`),
    };
  });
  const cfg: VmConfig = {
    memoryMiB: int(r['memoryMiB'], LIMITS.minMemoryMiB, LIMITS.maxMemoryMiB, 'memoryMiB'),
    disks,
    snapshots,
    nvram: str(r['nvram'], 'nvram', FILE_RE),
    log: str(r['log'], 'log', FILE_RE),
    serialPorts: int(r['serialPorts'] ?? 0, 0, LIMITS.maxPorts, 'serialPorts'),
    parallelPorts: int(r['parallelPorts'] ?? 0, 0, LIMITS.maxPorts, 'parallelPorts'),
    ...withOpt('kernel', optStr(r['kernel'], 'kernel')),
    ...withOpt('initrd', optStr(r['initrd'], 'initrd')),
    ...withOpt('append', optStr(r['append'], 'append')),
  };
  return cfg;
}

function withOpt<K extends string>(key: K, v: string | undefined): { [P in K]?: string } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: string };
}
