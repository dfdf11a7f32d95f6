import { HostError } from '../errors.js';

/**
 * The sensitive part of a VM's configuration. For an encrypted VM it lives only in the
 * .vmx `encrypted` section (a gcm-seal box under the VM DEK, bound to the uuid); for a plain VM in `config`.
 */
export interface DiskLayer {
  /** File name inside the VM directory. */
  readonly file: string;
  readonly format: 'luks' | 'qcow2' | 'raw';
  /** Wrapped layer DEK (encrypted layers): wrapDek(KEK, DEK, keyId). */
  readonly wrappedDek?: string;
  /**
   * The KEK id wrapping this layer's DEK when it is not the VM's (keySafe.keyId): a disk with
   * its own key, or a layer a shallow rekey already moved before it stopped part way.
   */
  readonly keyId?: string;
  /**
   * Absolute directory of a layer that lives outside the VM directory: an instant clone runs
   * on its parent's frozen layers (read-only for the clone).
   */
  readonly dir?: string;
}

export interface VmDisk {
  readonly id: string;
  readonly sizeBytes: number;
  /** The current chain: base first, active layer last. */
  readonly layers: readonly DiskLayer[];
  /** Frozen layers of other snapshot branches (not on the current chain). */
  readonly otherLayers?: readonly DiskLayer[];
}

export interface VmSnapshot {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  /** Depth: the snapshot's chain has this many layers on every disk (its own frozen layer last). */
  readonly layerCount: number;
  /** The snapshot this one was taken after (absent for a root of the tree). */
  readonly parent?: string;
  /** Per disk (same order as disks), the file of the layer this snapshot froze. */
  readonly files: readonly string[];
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
  /** Every layer of a disk, all branches of the snapshot tree together. */
  maxLayersPerDisk: 64,
  maxSnapshots: 63,
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
    const layerOf = (l: unknown, j: number): DiskLayer => {
      if (typeof l !== 'object' || l === null) bad(`disk ${i} layer ${j} is invalid`);
      const ll = l as Record<string, unknown>;
      const format = ll['format'];
      if (format !== 'luks' && format !== 'qcow2' && format !== 'raw') bad(`disk ${i} layer ${j} format is invalid`);
      const file = str(ll['file'], `disk ${i} layer ${j} file`, FILE_RE);
      const dir = optStr(ll['dir'], `disk ${i} layer ${j} dir`);
      if (dir !== undefined && !dir.startsWith('/')) bad(`disk ${i} layer ${j} dir must be absolute`);
      const where = dir === undefined ? {} : { dir };
      // a disk can be encrypted only when the VM home is: a plain VM has no encrypted layers,
      // an encrypted VM may keep plain disks (per-disk policy)
      if (ll['wrappedDek'] !== undefined || format === 'luks') {
        if (!encrypted) bad(`disk ${i} layer ${j}: a plain VM has no encrypted layers`);
        if (format === 'raw') bad(`disk ${i} layer ${j}: a raw layer has no key`);
        const keyId = optStr(ll['keyId'], `disk ${i} layer ${j} keyId`);
        return { file, format, wrappedDek: str(ll['wrappedDek'], `disk ${i} layer ${j} wrappedDek`), ...(keyId === undefined ? {} : { keyId }), ...where };
      }
      return { file, format, ...where };
    };
    const layers = layersRaw.map(layerOf);
    const otherRaw = dd['otherLayers'] ?? [];
    if (!Array.isArray(otherRaw) || layers.length + otherRaw.length > LIMITS.maxLayersPerDisk) bad(`disk ${i} otherLayers are invalid`);
    const otherLayers = otherRaw.map((l: unknown, j: number) => layerOf(l, layersRaw.length + j));
    return {
      id: str(dd['id'], `disk ${i} id`, /^[a-z0-9-]{1,40}$/),
      sizeBytes: int(dd['sizeBytes'], 512, LIMITS.maxDiskBytes, `disk ${i} sizeBytes`),
      layers,
      ...(otherLayers.length === 0 ? {} : { otherLayers }),
    };
  });
  if (!Array.isArray(r['snapshots']) || r['snapshots'].length > LIMITS.maxSnapshots) bad('config.snapshots is invalid');
  const snapshots = r['snapshots'].map((s: unknown, i: number): VmSnapshot => {
    if (typeof s !== 'object' || s === null) bad(`snapshot ${i} is invalid`);
    const ss = s as Record<string, unknown>;
    const layerCount = int(ss['layerCount'], 1, LIMITS.maxLayers - 1, `snapshot ${i} layerCount`);
    const parent = optStr(ss['parent'], `snapshot ${i} parent`);
    // before snapshot trees a snapshot of depth k froze layers [0, k) of the one chain
    const files = ss['files'] === undefined ? disks.map((d) => d.layers[layerCount - 1]?.file ?? '') : ss['files'];
    if (!Array.isArray(files) || files.length !== disks.length) bad(`snapshot ${i} files are invalid`);
    return {
      id: str(ss['id'], `snapshot ${i} id`, /^[a-z0-9-]{1,40}$/),
      name: str(ss['name'], `snapshot ${i} name`),
      createdAt: str(ss['createdAt'], `snapshot ${i} createdAt`),
      layerCount,
      ...(parent === undefined ? {} : { parent }),
      files: files.map((f: unknown, d: number) => str(f, `snapshot ${i} file ${d}`, FILE_RE)),
    };
  });
  if (r['snapshots'].length > 0 && r['snapshots'].every((s: unknown) => (s as Record<string, unknown>)['files'] === undefined)) {
    // legacy single chain: parents follow depth
    const byDepth = [...snapshots].sort((a, b) => a.layerCount - b.layerCount);
    byDepth.forEach((s, k) => {
      const p = byDepth[k - 1];
      if (p !== undefined) snapshots[snapshots.indexOf(s)] = { ...s, parent: p.id };
    });
  }
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
