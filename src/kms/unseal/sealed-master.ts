import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CryptoError } from '../../crypto/errors.js';
import { openSealed, seal } from '../../crypto/gcm-seal.js';
import { SealPurpose } from '../../crypto/seal-purpose.js';
import { fsyncDir } from '../../fs/fsync-dir.js';
import { isGroupOrOtherAccessible, modeString, openPrivateFile } from '../../fs/private-files.js';
import { KmsError } from '../errors.js';
import { checkShareCounts, UNSEAL_KEY_BYTES } from './shares.js';

/**
 * `master.sealed`: the master key sealed (gcm-seal) under the unseal key, which exists only as
 * Shamir shares (or in an auto-unseal file). JSON, no secret in clear:
 *   {"format":"vmcrypt-kms-master-v1","shares":5,"threshold":3,"box":"<base64>"}
 * The box is bound to "master" and both counts, so the counts cannot be edited unnoticed.
 */
export interface SealedMasterInfo {
  readonly shares: number;
  readonly threshold: number;
  readonly box: Buffer;
  /** During a master-key rotation: the new master key, sealed the same way (binding "master-next"). */
  readonly next?: Buffer;
}

const FORMAT = 'vmcrypt-kms-master-v1';
const MAX_FILE = 4096;
const context = (shares: number, threshold: number, which: 'master' | 'master-next' = 'master') =>
  ({ purpose: SealPurpose.KMS_MASTER_KEY, binding: [which, shares, threshold] }) as const;

/** master.sealed's text for `master` (and, mid-rotation, `next`) sealed under the unseal key. */
export function sealedMasterText(master: Buffer, unsealKey: Buffer, shares: number, threshold: number, next?: Buffer): string {
  checkShareCounts(shares, threshold);
  const box = seal(unsealKey, master, context(shares, threshold));
  const n = next === undefined ? {} : { next: seal(unsealKey, next, context(shares, threshold, 'master-next')).toString('base64') };
  return JSON.stringify({ format: FORMAT, shares, threshold, box: box.toString('base64'), ...n }) + '\n';
}

/** Writes master.sealed (0600, new file only, fsync'd with its directory). */
export async function writeSealedMaster(path: string, masterKey: Buffer, unsealKey: Buffer, shares: number, threshold: number): Promise<void> {
  const text = sealedMasterText(masterKey, unsealKey, shares, threshold);
  const fh = await openPrivateFile(path, 'wx');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsyncDir(dirname(path));
}

export async function readSealedMaster(path: string): Promise<SealedMasterInfo> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new KmsError('MASTER_KEY_INVALID', `sealed master key ${path} cannot be read`, { cause: err });
  }
  if (isGroupOrOtherAccessible(st.mode)) throw new KmsError('MASTER_KEY_INVALID', `${path} has mode ${modeString(st.mode)}; it must be 600`);
  if (st.size > MAX_FILE) throw new KmsError('MASTER_KEY_INVALID', `${path} is too large`);
  return parseSealedMaster(await readFile(path, 'utf8'), path);
}

/** Parses master.sealed's text (also as carried in a backup). */
export function parseSealedMaster(text: string, where = 'master.sealed'): SealedMasterInfo {
  const path = where;
  if (text.length > MAX_FILE) throw new KmsError('MASTER_KEY_INVALID', `${path} is too large`);
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new KmsError('MASTER_KEY_INVALID', `${path} is not a sealed master key`, { cause: err });
  }
  const { format, shares, threshold, box } = v;
  if (format !== FORMAT || typeof shares !== 'number' || typeof threshold !== 'number' || typeof box !== 'string') {
    throw new KmsError('MASTER_KEY_INVALID', `${path} is not a sealed master key (${FORMAT})`);
  }
  checkShareCounts(shares, threshold);
  const next = v['next'];
  if (next !== undefined && typeof next !== 'string') throw new KmsError('MASTER_KEY_INVALID', `${path} is not a sealed master key (${FORMAT})`);
  return { shares, threshold, box: Buffer.from(box, 'base64'), ...(next === undefined ? {} : { next: Buffer.from(next, 'base64') }) };
}

/** The master key (caller zeroes it); UNSEAL_FAILED when `unsealKey` is not the one that sealed it. */
export function openMaster(info: SealedMasterInfo, unsealKey: Buffer): Buffer {
  return openBox(info, unsealKey, info.box, 'master');
}

/** The rotation's new master key, when a rotation is under way (caller zeroes it). */
export function openNextMaster(info: SealedMasterInfo, unsealKey: Buffer): Buffer | undefined {
  return info.next === undefined ? undefined : openBox(info, unsealKey, info.next, 'master-next');
}

function openBox(info: SealedMasterInfo, unsealKey: Buffer, box: Buffer, which: 'master' | 'master-next'): Buffer {
  if (unsealKey.length !== UNSEAL_KEY_BYTES) throw new KmsError('UNSEAL_FAILED', 'unseal key must be 32 bytes');
  try {
    const m = openSealed(unsealKey, box, context(info.shares, info.threshold, which));
    if (m.length !== 32) {
      m.fill(0);
      throw new KmsError('MASTER_KEY_INVALID', 'sealed master key does not hold 32 bytes');
    }
    return m;
  } catch (err) {
    if (!(err instanceof CryptoError)) throw err;
    const why = err.code === 'WRONG_KEY' ? 'the shares (or unseal key) do not belong to this KMS' : 'the sealed master key was modified';
    throw new KmsError('UNSEAL_FAILED', `cannot unseal: ${why}`, { cause: err });
  }
}

/** A fresh random 32-byte key (master or unseal key); the caller zeroes it. */
export function newKey(): Buffer {
  return randomBytes(32);
}
