import type { VmKeyUse } from '../../contracts.js';
import { ManagerError } from '../../errors.js';
import type { PowerState, VmObservation } from '../store/vm-store.js';

/**
 * The host's replies, checked before use: a host is a peer the manager pinned, not one it
 * trusts to send well-formed data (strings bounded, arrays capped, enums checked).
 */
const MAX_STR = 4096;
const MAX_ITEMS = 100_000;

export interface HostVm {
  readonly uuid: string;
  readonly name: string;
  readonly vmx: string;
  /** The policy name the .vmx carries (clear part). */
  readonly storagePolicy?: string;
  readonly observation: VmObservation;
}

export interface HostInfoReply {
  readonly name: string;
  readonly thumbprint: string;
  readonly cryptoMode: 'incapable' | 'prepared' | 'safe';
  readonly hostKeyId?: string;
  readonly hostKeyPresent?: boolean;
  readonly lockedVms: readonly string[];
  /** What the agent can do for migrations; an agent that says nothing cannot encrypt them (as migrate-policy reads it). */
  readonly migration: { readonly encryption: boolean; readonly channels: readonly string[] };
}

export interface HostEventReply {
  readonly seq: number;
  readonly time: string;
  readonly type: string;
  readonly message: string;
  readonly vmUuid?: string;
  readonly file?: string;
  readonly location?: string;
}

function bad(what: string): ManagerError {
  return new ManagerError('MANAGER_HOST_UNREACHABLE', `the host sent a malformed reply (${what})`);
}

function obj(x: unknown, what: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw bad(what);
  return x as Record<string, unknown>;
}

function str(o: Record<string, unknown>, k: string, what: string): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length > MAX_STR) throw bad(`${what}.${k}`);
  return v;
}

function optStr(o: Record<string, unknown>, k: string, what: string): string | undefined {
  return o[k] === undefined ? undefined : str(o, k, what);
}

function arr(x: unknown, what: string): unknown[] {
  if (!Array.isArray(x) || x.length > MAX_ITEMS) throw bad(what);
  return x;
}

const POWER: readonly PowerState[] = ['poweredOn', 'poweredOff', 'suspended'];
const MODES = ['incapable', 'prepared', 'safe'] as const;

export function parseHostVm(x: unknown): HostVm {
  const o = obj(x, 'vm');
  const crypto = obj(o['crypto'] ?? {}, 'vm.crypto');
  const state = optStr(crypto, 'state', 'vm.crypto') ?? 'notEncrypted';
  const power = str(o, 'powerState', 'vm');
  if (!(POWER as readonly string[]).includes(power)) throw bad('vm.powerState');
  const encrypted = o['encrypted'] === true;
  const keyId = optStr(crypto, 'keyId', 'vm.crypto');
  const providerId = optStr(crypto, 'providerId', 'vm.crypto');
  const keys = encrypted && keyId !== undefined && providerId !== undefined ? keyUses(o, { providerId, keyId }) : [];
  const reason = optStr(crypto, 'reason', 'vm.crypto');
  const error = optStr(o, 'error', 'vm');
  const storagePolicy = optStr(o, 'storagePolicy', 'vm');
  return {
    ...(storagePolicy === undefined ? {} : { storagePolicy }),
    uuid: str(o, 'uuid', 'vm'),
    name: str(o, 'name', 'vm'),
    vmx: str(o, 'vmx', 'vm'),
    observation: {
      encrypted, keys, powerState: power as PowerState, locked: state === 'locked',
      ...(state === 'locked' && reason !== undefined ? { lockReason: reason } : {}),
      ...(error === undefined ? {} : { error }),
      vmxPath: str(o, 'vmx', 'vm'),
    },
  };
}

/**
 * Every KEK the VM's files need, by part: 'vm' (home), DISK (its top layer), DISK@N (layer N
 * of the chain, base = 0, when it is under another KEK than the top one) and chainN for a key
 * the host lists in `keyIds` that no part above names (a locked VM shows no layers). A shallow
 * rekey stopped part way leaves layers under two KEKs: unlock must push both, so every one
 * is recorded. A layer is wrapped by the VM's KEK unless the host names another; a plain disk
 * of an encrypted VM (per-disk policy) has no key. The provider of a key other than the VM's
 * is the pending rekey's when it is that key, else the VM's (the host's clear part names no other).
 */
function keyUses(o: Record<string, unknown>, home: { providerId: string; keyId: string }): VmKeyUse[] {
  const keys: VmKeyUse[] = [{ part: 'vm', key: home }];
  const pendingRaw = o['pendingRekey'];
  const pending = pendingRaw === undefined || pendingRaw === null ? undefined : obj(pendingRaw, 'vm.pendingRekey');
  const pendingKey = pending === undefined ? undefined : optStr(pending, 'keyId', 'vm.pendingRekey');
  const pendingProvider = pending === undefined ? undefined : optStr(pending, 'providerId', 'vm.pendingRekey');
  const ref = (keyId: string): { providerId: string; keyId: string } => ({
    providerId: keyId === pendingKey && pendingProvider !== undefined ? pendingProvider : home.providerId, keyId,
  });
  const disks = o['disks'] === undefined ? [] : arr(o['disks'], 'vm.disks');
  for (const d of disks) {
    const dd = obj(d, 'vm.disk');
    const layers = dd['layers'] === undefined ? [] : arr(dd['layers'], 'vm.disk.layers').map((l) => obj(l, 'vm.disk.layer'));
    const plain = dd['encrypted'] === false || (layers.length > 0 && layers.every((l) => l['format'] === 'raw'));
    if (plain) continue;
    const id = str(dd, 'id', 'vm.disk');
    const layerKey = (l: Record<string, unknown>): string | undefined => (l['keyId'] === null ? undefined : optStr(l, 'keyId', 'vm.disk.layer'));
    const top = layers.at(-1);
    const topKey = (top === undefined ? undefined : layerKey(top)) ?? home.keyId;
    keys.push({ part: id, key: ref(topKey) });
    layers.forEach((l, i) => {
      if (l['format'] === 'raw' || l === top) return;
      const k = layerKey(l) ?? home.keyId;
      if (k !== topKey) keys.push({ part: `${id}@${i}`, key: ref(k) });
    });
  }
  const named = new Set(keys.map((k) => k.key.keyId));
  const listed = o['keyIds'] === undefined ? [] : arr(o['keyIds'], 'vm.keyIds');
  let n = 0;
  for (const k of listed) {
    if (typeof k !== 'string' || k.length === 0 || k.length > MAX_STR) throw bad('vm.keyIds');
    if (named.has(k)) continue;
    named.add(k);
    keys.push({ part: `chain${n++}`, key: ref(k) });
  }
  return keys;
}

export function parseHostVms(x: unknown): HostVm[] {
  return arr(obj(x, 'vms')['vms'], 'vms').map(parseHostVm);
}

export function parseHostInfo(x: unknown): HostInfoReply {
  const o = obj(x, 'host');
  const mode = str(o, 'cryptoMode', 'host');
  if (!(MODES as readonly string[]).includes(mode)) throw bad('host.cryptoMode');
  const hostKeyId = optStr(o, 'hostKeyId', 'host');
  return {
    name: str(o, 'name', 'host'),
    thumbprint: str(o, 'thumbprint', 'host'),
    cryptoMode: mode as HostInfoReply['cryptoMode'],
    ...(hostKeyId === undefined ? {} : { hostKeyId, hostKeyPresent: o['hostKeyPresent'] === true }),
    lockedVms: arr(o['lockedVms'] ?? [], 'host.lockedVms').map((v) => {
      if (typeof v !== 'string' || v.length > 64) throw bad('host.lockedVms');
      return v;
    }),
    migration: parseMigration(o['migration']),
  };
}

/** `migration: {encryption, channels}`, bounded and lenient (a malformed one = cannot encrypt, no channels). */
function parseMigration(x: unknown): HostInfoReply['migration'] {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return { encryption: false, channels: [] };
  const o = x as Record<string, unknown>;
  const channels = Array.isArray(o['channels']) ? o['channels'].slice(0, 16).filter((c): c is string => typeof c === 'string' && c.length > 0 && c.length <= 32) : [];
  return { encryption: o['encryption'] === true, channels };
}

export function parseHostEvents(x: unknown): HostEventReply[] {
  return arr(obj(x, 'events')['events'], 'events').map((e) => {
    const o = obj(e, 'event');
    const seq = o['seq'];
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw bad('event.seq');
    const vmUuid = optStr(o, 'vmUuid', 'event');
    const file = optStr(o, 'file', 'event');
    const location = optStr(o, 'location', 'event');
    return {
      seq, time: str(o, 'time', 'event'), type: str(o, 'type', 'event'), message: str(o, 'message', 'event'),
      ...(vmUuid === undefined ? {} : { vmUuid }),
      ...(file === undefined ? {} : { file }),
      ...(location === undefined ? {} : { location }),
    };
  });
}

export function parseDatastores(x: unknown): { name: string; path: string }[] {
  return arr(obj(x, 'datastores')['datastores'], 'datastores').map((d) => {
    const o = obj(d, 'datastore');
    return { name: str(o, 'name', 'datastore'), path: str(o, 'path', 'datastore') };
  });
}
