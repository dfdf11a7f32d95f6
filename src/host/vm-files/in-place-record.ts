import { HostError } from '../errors.js';
import { validateKeyId } from '../keys/key-cache.js';

/**
 * `inPlace` in the clear part of a .vmx: an in-place encrypt / decrypt / deep rekey / per-disk
 * change of this VM is under way. Written (atomically, with the rest of the .vmx) BEFORE any
 * disk changes, removed by the final .vmx commit. It holds only what a rerun needs to finish
 * with the same keys: the target KEK id, the new DEKs WRAPPED under that KEK (never a clear
 * key), and per disk the file being converted and the name it gets at the end. While it is
 * there the VM does not power on and no other key or disk change is accepted.
 */
export const InPlaceOp = {
  ENCRYPT: 'encrypt',
  DECRYPT: 'decrypt',
  REKEY: 'rekey',
  DISK_ENCRYPT: 'diskEncrypt',
  DISK_DECRYPT: 'diskDecrypt',
} as const;
export type InPlaceOp = (typeof InPlaceOp)[keyof typeof InPlaceOp];

export interface InPlaceDiskEntry {
  /** Index of the disk in the configuration. */
  readonly disk: number;
  /** The disk's file (in the VM directory) as the configuration names it before the operation. */
  readonly file: string;
  /** Its name once converted (the file is renamed to it when its conversion is complete). */
  readonly to: string;
  /** The disk's new DEK wrapped under `key` (encrypt, rekey): what the half-done disk needs. */
  readonly wrappedDek?: string;
  /** LUKS UUID of the disk before a decrypt (tells a finished decrypt from one not begun). */
  readonly luksUuid?: string;
}

export interface InPlacePending {
  readonly op: InPlaceOp;
  readonly startedAt: string;
  /** The KEK the VM (or the disk) ends under: encrypt, rekey, diskEncrypt. */
  readonly key?: { readonly providerId: string; readonly keyId: string };
  /** The new VM DEK wrapped under `key` (encrypt, rekey). */
  readonly wrappedVmDek?: string;
  readonly disks: readonly InPlaceDiskEntry[];
}

const OPS: readonly string[] = Object.values(InPlaceOp);
const FILE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;
const UUID_RE = /^[0-9a-fA-F-]{1,40}$/;
const MAX_WRAPPED = 512;
const MAX_DISKS = 8;

function bad(file: string, what: string): never {
  throw new HostError('HOST_VMX_INVALID', `${file}: inPlace.${what} is invalid`);
}

function optWrapped(v: unknown, file: string, what: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_WRAPPED) bad(file, what);
  return v;
}

/** Validates the untrusted `inPlace` value of a .vmx (bounded: at most 8 disks, short strings). */
export function parseInPlace(raw: unknown, file: string): InPlacePending {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad(file, 'value');
  const r = raw as Record<string, unknown>;
  const op = r['op'];
  if (typeof op !== 'string' || !OPS.includes(op)) bad(file, 'op');
  const startedAt = typeof r['startedAt'] === 'string' ? r['startedAt'].slice(0, 64) : '';
  let key: InPlacePending['key'];
  if (r['key'] !== undefined) {
    const k = r['key'] as Record<string, unknown> | null;
    if (typeof k !== 'object' || k === null || typeof k['providerId'] !== 'string' || k['providerId'].length === 0 || k['providerId'].length > 256) bad(file, 'key');
    let keyId: string;
    try {
      keyId = validateKeyId(k['keyId'], 'inPlace.key.keyId');
    } catch {
      bad(file, 'key.keyId');
    }
    key = { providerId: k['providerId'] as string, keyId };
  }
  const wrappedVmDek = optWrapped(r['wrappedVmDek'], file, 'wrappedVmDek');
  const d = r['disks'];
  if (!Array.isArray(d) || d.length > MAX_DISKS) bad(file, 'disks');
  const disks = d.map((x: unknown, i: number): InPlaceDiskEntry => {
    if (typeof x !== 'object' || x === null) bad(file, `disks[${i}]`);
    const e = x as Record<string, unknown>;
    const disk = e['disk'];
    if (typeof disk !== 'number' || !Number.isInteger(disk) || disk < 0 || disk >= MAX_DISKS) bad(file, `disks[${i}].disk`);
    const f = e['file'];
    const to = e['to'];
    if (typeof f !== 'string' || !FILE_RE.test(f)) bad(file, `disks[${i}].file`);
    if (typeof to !== 'string' || !FILE_RE.test(to)) bad(file, `disks[${i}].to`);
    const wrappedDek = optWrapped(e['wrappedDek'], file, `disks[${i}].wrappedDek`);
    const u = e['luksUuid'];
    if (u !== undefined && (typeof u !== 'string' || !UUID_RE.test(u))) bad(file, `disks[${i}].luksUuid`);
    return { disk, file: f, to, ...(wrappedDek === undefined ? {} : { wrappedDek }), ...(u === undefined ? {} : { luksUuid: u as string }) };
  });
  if ((op === 'encrypt' || op === 'rekey' || op === 'diskEncrypt') && key === undefined) bad(file, 'key');
  return { op: op as InPlaceOp, startedAt, ...(key === undefined ? {} : { key }), ...(wrappedVmDek === undefined ? {} : { wrappedVmDek }), disks };
}

/** The host API verb that finishes an in-place operation (for messages). */
export function rerunOf(p: InPlacePending, uuid: string): string {
  const keyPart = p.key === undefined ? '' : ` with key ${p.key.keyId}`;
  switch (p.op) {
    case 'encrypt':
      return `rerun the encrypt of the VM${keyPart} (POST /v1/vms/${uuid}/encrypt; vmcrypt vm encrypt --in-place)`;
    case 'decrypt':
      return `rerun the decrypt of the VM (POST /v1/vms/${uuid}/decrypt; vmcrypt vm decrypt --in-place)`;
    case 'rekey':
      return `rerun the deep rekey${keyPart} (POST /v1/vms/${uuid}/rekey deep; vmcrypt vm rekey --deep --in-place)`;
    case 'diskEncrypt':
      return `rerun the encrypt of disk ${p.disks[0]?.disk ?? '?'}${keyPart} (POST /v1/vms/${uuid}/disks/encrypt)`;
    case 'diskDecrypt':
      return `rerun the decrypt of disk ${p.disks[0]?.disk ?? '?'} (POST /v1/vms/${uuid}/disks/decrypt)`;
  }
}

/** HOST_CONFLICT for anything but the rerun while an in-place operation is unfinished. */
export function unfinishedInPlace(p: InPlacePending, uuid: string, name: string, what: string): HostError {
  return new HostError(
    'HOST_CONFLICT',
    `${what} refused: VM ${name} is in the middle of an in-place ${p.op} (started ${p.startedAt || '?'}) and its disks are not usable until it finishes: ${rerunOf(p, uuid)}`,
  );
}
