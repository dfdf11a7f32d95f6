import { ManagerError } from '../../errors.js';
import type { HostGateway } from '../../contracts.js';

/**
 * What a host says about one VM beyond the inventory's summary: disks with their layers,
 * the snapshot tree, the key each layer is wrapped with and the power state, read fresh
 * before every operation (the host's .vmx is the truth; the inventory only mirrors it).
 * The reply is bounded and checked like every host reply.
 */
export interface LayerFacts {
  readonly file: string;
  readonly format: string;
  /** The KEK this layer's DEK is wrapped with (the VM's when the host does not say). */
  readonly keyId?: string;
}

export interface DiskFacts {
  readonly id: string;
  readonly sizeBytes: number;
  readonly encrypted?: boolean;
  readonly layers: readonly LayerFacts[];
}

export interface SnapshotFacts {
  readonly id: string;
  readonly name: string;
  readonly parentId?: string;
  readonly createdAt?: string;
  readonly layerCount?: number;
}

export interface VmFacts {
  readonly uuid: string;
  readonly name: string;
  readonly encrypted: boolean;
  readonly cryptoState: 'notEncrypted' | 'unlocked' | 'locked';
  readonly lockReason?: string;
  readonly keyId?: string;
  readonly providerId?: string;
  readonly powerState: 'poweredOn' | 'poweredOff' | 'suspended';
  readonly disks: readonly DiskFacts[];
  readonly snapshots: readonly SnapshotFacts[];
  /** The snapshot the VM runs from (tree hosts), when the host says. */
  readonly currentSnapshotId?: string;
  /** The host reports layers under more than one KEK (a shallow rekey stopped part way). */
  readonly mixedKeys: boolean;
  readonly instantCloneParent?: string;
  /** Instant clones the host runs on this VM's disks. */
  readonly instantClones: readonly string[];
  /** Branches of the snapshot tree, when the host counts them. */
  readonly branches?: number;
  /** Every KEK id the VM needs (its own and other layers'), when the host lists them. */
  readonly keyIds: readonly string[];
  readonly error?: string;
}

const MAX_STR = 4096;
const MAX_ITEMS = 4096;

const bad = (what: string): ManagerError => new ManagerError('MANAGER_HOST_UNREACHABLE', `the host sent a malformed VM reply (${what})`);
const obj = (x: unknown, what: string): Record<string, unknown> => {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw bad(what);
  return x as Record<string, unknown>;
};
const optStr = (o: Record<string, unknown>, k: string, what: string): string | undefined => {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > MAX_STR) throw bad(`${what}.${k}`);
  return v;
};
const str = (o: Record<string, unknown>, k: string, what: string): string => {
  const v = optStr(o, k, what);
  if (v === undefined) throw bad(`${what}.${k}`);
  return v;
};
const arr = (x: unknown, what: string): unknown[] => {
  if (x === undefined || x === null) return [];
  if (!Array.isArray(x) || x.length > MAX_ITEMS) throw bad(what);
  return x;
};
const num = (o: Record<string, unknown>, k: string, what: string): number | undefined => {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(`${what}.${k}`);
  return v;
};

function parseLayer(x: unknown): LayerFacts {
  const o = obj(x, 'layer');
  const keyId = optStr(o, 'keyId', 'layer');
  return { file: str(o, 'file', 'layer'), format: str(o, 'format', 'layer'), ...(keyId === undefined ? {} : { keyId }) };
}

function parseDisk(x: unknown): DiskFacts {
  const o = obj(x, 'disk');
  const enc = o['encrypted'];
  return {
    id: str(o, 'id', 'disk'), sizeBytes: num(o, 'sizeBytes', 'disk') ?? 0,
    ...(typeof enc === 'boolean' ? { encrypted: enc } : {}),
    layers: arr(o['layers'], 'disk.layers').map(parseLayer),
  };
}

function parseSnapshot(x: unknown): SnapshotFacts {
  const o = obj(x, 'snapshot');
  const parentId = optStr(o, 'parentId', 'snapshot') ?? optStr(o, 'parent', 'snapshot');
  const createdAt = optStr(o, 'createdAt', 'snapshot');
  const layerCount = num(o, 'layerCount', 'snapshot');
  return {
    id: str(o, 'id', 'snapshot'), name: str(o, 'name', 'snapshot'),
    ...(parentId === undefined ? {} : { parentId }),
    ...(createdAt === undefined ? {} : { createdAt }),
    ...(layerCount === undefined ? {} : { layerCount }),
  };
}

const POWER = ['poweredOn', 'poweredOff', 'suspended'] as const;
const STATES = ['notEncrypted', 'unlocked', 'locked'] as const;

export function parseVmFacts(x: unknown): VmFacts {
  const o = obj(x, 'vm');
  const crypto = obj(o['crypto'] ?? {}, 'vm.crypto');
  const state = optStr(crypto, 'state', 'vm.crypto') ?? 'notEncrypted';
  if (!(STATES as readonly string[]).includes(state)) throw bad('vm.crypto.state');
  const power = str(o, 'powerState', 'vm');
  if (!(POWER as readonly string[]).includes(power)) throw bad('vm.powerState');
  const disks = arr(o['disks'], 'vm.disks').map(parseDisk);
  const keyId = optStr(crypto, 'keyId', 'vm.crypto');
  const providerId = optStr(crypto, 'providerId', 'vm.crypto');
  const lockReason = optStr(crypto, 'reason', 'vm.crypto');
  const tree = o['snapshotTree'] === undefined || o['snapshotTree'] === null ? undefined : obj(o['snapshotTree'], 'vm.snapshotTree');
  const current = (tree === undefined ? undefined : optStr(tree, 'current', 'vm.snapshotTree')) ?? optStr(o, 'currentSnapshotId', 'vm');
  const branches = tree === undefined ? undefined : num(tree, 'branches', 'vm.snapshotTree');
  const parent = optStr(o, 'instantCloneOf', 'vm') ?? optStr(o, 'instantCloneParent', 'vm');
  const strings = (k: string): string[] => arr(o[k], `vm.${k}`).map((v) => {
    if (typeof v !== 'string' || v.length > MAX_STR) throw bad(`vm.${k}`);
    return v;
  });
  const error = optStr(o, 'error', 'vm');
  const layerKeys = new Set(disks.flatMap((d) => d.layers.map((l) => l.keyId ?? keyId ?? '')).filter((k) => k !== ''));
  const mixed = o['mixedKeys'];
  return {
    uuid: str(o, 'uuid', 'vm'), name: str(o, 'name', 'vm'), encrypted: o['encrypted'] === true,
    cryptoState: state as VmFacts['cryptoState'],
    ...(lockReason === undefined ? {} : { lockReason }),
    ...(keyId === undefined ? {} : { keyId }),
    ...(providerId === undefined ? {} : { providerId }),
    powerState: power as VmFacts['powerState'],
    disks,
    snapshots: arr(tree === undefined ? o['snapshots'] : tree['snapshots'], 'vm.snapshots').map(parseSnapshot),
    ...(branches === undefined ? {} : { branches }),
    instantClones: strings('instantClones'),
    keyIds: strings('keyIds'),
    ...(current === undefined ? {} : { currentSnapshotId: current }),
    // The host's own flag is the truth: a disk with its own key (per-disk encryption) is not a mixed chain.
    // Only a host too old to report it is judged from the layers.
    mixedKeys: typeof mixed === 'boolean' ? mixed : (typeof mixed === 'object' && mixed !== null) || layerKeys.size > 1,
    ...(parent === undefined ? {} : { instantCloneParent: parent }),
    ...(error === undefined ? {} : { error }),
  };
}

export async function readVmFacts(hosts: HostGateway, hostId: string, vmId: string): Promise<VmFacts> {
  return parseVmFacts(await hosts.call(hostId, 'GET', `/v1/vms/${vmId}`));
}

/** A snapshot tree is one branch when no snapshot (nor the root) has two children. */
export function isSingleBranch(snapshots: readonly SnapshotFacts[], branches?: number): boolean {
  if (branches !== undefined) return branches <= 1;
  const children = new Map<string, number>();
  for (const s of snapshots) {
    // hosts without a tree report a linear list: each snapshot's parent is the one before it
    const parent = s.parentId ?? '';
    if (s.parentId === undefined) continue;
    children.set(parent, (children.get(parent) ?? 0) + 1);
  }
  const roots = snapshots.filter((s) => s.parentId === undefined || !snapshots.some((p) => p.id === s.parentId)).length;
  const hasTree = snapshots.some((s) => s.parentId !== undefined);
  if (!hasTree) return true;
  return roots <= 1 && [...children.values()].every((n) => n <= 1);
}

export function totalDiskBytes(f: VmFacts): number {
  return f.disks.reduce((n, d) => n + d.sizeBytes, 0);
}
