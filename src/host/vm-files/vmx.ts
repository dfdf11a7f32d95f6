import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { writeAtomically } from '../../fs/atomic-file.js';
import { HostError } from '../errors.js';
import { validateKeyId } from '../keys/key-cache.js';
import { validateVmConfig, type VmConfig } from './vm-config.js';
import { SealPurpose } from '../../crypto/seal-purpose.js';
import { openWith, sealWith, unwrapDekFor } from './vm-crypto.js';
import { parseInPlace, type InPlacePending } from './in-place-record.js';

/**
 * `NAME.vmx`: JSON with a clear part (what a locked host may see: name, uuid, storage
 * policy, keySafe) and, for encrypted VMs, `encrypted` = base64 of a gcm-seal box of the
 * VmConfig under the VM DEK, purpose "vmx-config", bound to the VM uuid (a section moved to
 * another VM fails; pre-2.0 sections, AAD = the uuid, still open).
 * Plain VMs carry `config` in clear instead. keySafe.wrappedDek = wrapDek(KEK, VM DEK, keyId).
 */
export const VMX_FORMAT = 'vmcrypt-vmx/1';
export const MAX_VMX_BYTES = 1 << 20;

export interface KeySafe {
  readonly providerId: string;
  readonly keyId: string;
  readonly wrappedDek: string;
  /**
   * Other KEK ids wrapping some layer DEKs (a disk with its own key, or layers a shallow
   * rekey already moved): in the clear so a locked host can name every key it needs.
   */
  readonly otherKeyIds?: readonly string[];
  /** A shallow rekey to this key stopped part way: layers are under mixed keys until a rerun finishes. */
  readonly pendingRekey?: { readonly providerId: string; readonly keyId: string };
}

const MAX_LINKS = 64;

export interface VmxDocument {
  readonly format: typeof VMX_FORMAT;
  readonly name: string;
  readonly uuid: string;
  readonly createdAt: string;
  readonly storagePolicy: string;
  readonly keySafe?: KeySafe;
  /** Uuids of the instant clones running on this VM's frozen layers. */
  readonly instantClones?: readonly string[];
  /** This VM is an instant clone of that VM (uuid): its lower layers are the parent's. */
  readonly instantCloneOf?: string;
  /** An in-place encryption change is under way (in-place-record.ts): wrapped keys only. */
  readonly inPlace?: InPlacePending;
  readonly encrypted?: string;
  readonly config?: VmConfig;
}

const configContext = (uuid: string) => ({ purpose: SealPurpose.VMX_CONFIG, binding: [uuid] }) as const;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const VM_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function invalid(file: string, what: string): never {
  throw new HostError('HOST_VMX_INVALID', `${file}: ${what}`);
}

/** Reads and validates the clear part of a .vmx; the encrypted section stays sealed. */
export async function readVmx(path: string): Promise<VmxDocument> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new HostError('HOST_NOT_FOUND', `${path}: no such .vmx file`);
  }
  if (size > MAX_VMX_BYTES) invalid(path, `larger than ${MAX_VMX_BYTES} bytes`);
  return parseVmx(await readFile(path, 'utf8'), path);
}

/**
 * readVmx without the event loop, for the agent's start (its key index reads every registered
 * .vmx before it serves): a synchronous read costs a fraction of the five async steps.
 */
export function readVmxSync(path: string): VmxDocument {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    throw new HostError('HOST_NOT_FOUND', `${path}: no such .vmx file`);
  }
  try {
    if (fstatSync(fd).size > MAX_VMX_BYTES) invalid(path, `larger than ${MAX_VMX_BYTES} bytes`);
    return parseVmx(readFileSync(fd, 'utf8'), path);
  } finally {
    closeSync(fd);
  }
}

export function parseVmx(text: string, file: string): VmxDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    invalid(file, 'not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalid(file, 'not a JSON object');
  const r = raw as Record<string, unknown>;
  if (r['format'] !== VMX_FORMAT) invalid(file, `format must be ${VMX_FORMAT}`);
  const name = r['name'];
  const uuid = r['uuid'];
  if (typeof name !== 'string' || !VM_NAME_RE.test(name)) invalid(file, 'name is invalid');
  if (typeof uuid !== 'string' || !UUID_RE.test(uuid)) invalid(file, 'uuid is invalid');
  const createdAt = typeof r['createdAt'] === 'string' ? r['createdAt'].slice(0, 64) : '';
  const storagePolicy = typeof r['storagePolicy'] === 'string' ? r['storagePolicy'].slice(0, 256) : 'Datastore Default';
  const links: { instantClones?: string[]; instantCloneOf?: string; inPlace?: InPlacePending } = {};
  if (r['instantClones'] !== undefined) {
    const ic = r['instantClones'];
    if (!Array.isArray(ic) || ic.length > MAX_LINKS || !ic.every((u) => typeof u === 'string' && UUID_RE.test(u))) invalid(file, 'instantClones is invalid');
    links.instantClones = ic as string[];
  }
  if (r['instantCloneOf'] !== undefined) {
    const p = r['instantCloneOf'];
    if (typeof p !== 'string' || !UUID_RE.test(p)) invalid(file, 'instantCloneOf is invalid');
    links.instantCloneOf = p;
  }
  if (r['inPlace'] !== undefined) links.inPlace = parseInPlace(r['inPlace'], file);
  const base = { format: VMX_FORMAT, name, uuid, createdAt, storagePolicy, ...links } as const;
  if (r['keySafe'] === undefined) {
    if (r['encrypted'] !== undefined) invalid(file, 'has an encrypted section but no keySafe');
    return { ...base, config: validateVmConfig(r['config'], false) };
  }
  const ks = r['keySafe'];
  if (typeof ks !== 'object' || ks === null) invalid(file, 'keySafe is invalid');
  const k = ks as Record<string, unknown>;
  if (typeof k['providerId'] !== 'string' || k['providerId'].length === 0 || k['providerId'].length > 256) invalid(file, 'keySafe.providerId is invalid');
  if (typeof k['wrappedDek'] !== 'string' || k['wrappedDek'].length > 512) invalid(file, 'keySafe.wrappedDek is invalid');
  let keySafe: KeySafe = { providerId: k['providerId'], keyId: validateKeyId(k['keyId'], 'keySafe.keyId'), wrappedDek: k['wrappedDek'] };
  if (k['otherKeyIds'] !== undefined) {
    const o = k['otherKeyIds'];
    if (!Array.isArray(o) || o.length > MAX_LINKS) invalid(file, 'keySafe.otherKeyIds is invalid');
    keySafe = { ...keySafe, otherKeyIds: o.map((x, i) => validateKeyId(x, `keySafe.otherKeyIds[${i}]`)) };
  }
  if (k['pendingRekey'] !== undefined) {
    const p = k['pendingRekey'] as Record<string, unknown> | null;
    if (typeof p !== 'object' || p === null || typeof p['providerId'] !== 'string' || p['providerId'].length === 0 || p['providerId'].length > 256) invalid(file, 'keySafe.pendingRekey is invalid');
    keySafe = { ...keySafe, pendingRekey: { providerId: p['providerId'] as string, keyId: validateKeyId(p['keyId'], 'keySafe.pendingRekey.keyId') } };
  }
  const enc = r['encrypted'];
  if (typeof enc !== 'string' || enc.length > MAX_VMX_BYTES || !/^[A-Za-z0-9+/]*={0,2}$/.test(enc)) invalid(file, 'encrypted section is missing or not base64');
  return { ...base, keySafe, encrypted: enc };
}

/**
 * Opens an encrypted .vmx with the VM's KEK: unwraps the VM DEK, authenticates and decrypts
 * the section (AAD = uuid) and validates it. The caller zeroes the returned DEK.
 */
export function openVmx(doc: VmxDocument, kek: Buffer, file: string): { config: VmConfig; vmDek: Buffer } {
  if (doc.keySafe === undefined || doc.encrypted === undefined) {
    if (doc.config === undefined) invalid(file, 'has no configuration');
    throw new HostError('HOST_BAD_REQUEST', `${file}: not an encrypted VM`);
  }
  const vmDek = unwrapDekFor(kek, doc.keySafe.wrappedDek, doc.keySafe.keyId, `${file}: keySafe wrapped DEK`);
  try {
    const plain = openWith(vmDek, Buffer.from(doc.encrypted, 'base64'), configContext(doc.uuid), doc.uuid, `${file}: encrypted section`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(plain.toString('utf8'));
    } catch {
      invalid(file, 'encrypted section does not hold JSON');
    } finally {
      plain.fill(0);
    }
    return { config: validateVmConfig(parsed, true), vmDek };
  } catch (err) {
    vmDek.fill(0);
    throw err;
  }
}

/** Serialises a .vmx; for encrypted VMs the config is sealed under `vmDek` (fresh nonce). */
export function encodeVmx(
  clear: Omit<VmxDocument, 'encrypted' | 'config'>,
  config: VmConfig,
  vmDek: Buffer | undefined,
): string {
  if (clear.keySafe !== undefined) {
    if (vmDek === undefined) throw new Error('encodeVmx: encrypted VM needs its DEK');
    const plain = Buffer.from(JSON.stringify(config), 'utf8');
    const sealed = sealWith(vmDek, plain, configContext(clear.uuid));
    plain.fill(0);
    return JSON.stringify({ ...clear, encrypted: sealed.toString('base64') }, null, 2) + '\n';
  }
  return JSON.stringify({ ...clear, config }, null, 2) + '\n';
}

/**
 * Serialises a document as read, for a change of the clear part only (instant-clone links):
 * the sealed section is kept byte for byte, so no key is needed. The clear part is not in
 * the section's AAD (only the uuid is), so the section still opens.
 */
export function encodeVmxAsRead(doc: VmxDocument): string {
  return JSON.stringify(doc, null, 2) + '\n';
}

/** Replaces the .vmx atomically (temp file, fsync, rename, fsync dir). */
export async function writeVmx(path: string, text: string): Promise<void> {
  await writeAtomically(path, async (fh) => {
    await fh.writeFile(text, 'utf8');
  });
}
