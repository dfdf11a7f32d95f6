import { pbkdf2, pbkdf2Sync, randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { XtsCipher } from '../../crypto/xts.js';
import { constantTimeEqual, zero } from '../../crypto/guards.js';
import { afMerge, afSplit } from './af.js';
import {
  AF_STRIPES, DIGEST_BYTES, FIRST_KEYSLOT_SECTOR, KEYSLOT_ALIGN_SECTORS, KEYSLOTS, MASTER_KEY_BYTES,
  MK_DIGEST_ITERATIONS, PAYLOAD_OFFSET_SECTORS, SALT_BYTES, SECTOR,
} from './constants.js';
import { keyMaterialSectors, type Keyslot, type LuksHeader } from './header.js';

/** The keyslot passphrase of a DEK: its 64 lowercase hex characters as ASCII (no JS string made). */
export function passphraseFromDek(dek: Buffer): Buffer {
  const hex = '0123456789abcdef';
  const out = Buffer.alloc(dek.length * 2);
  for (let i = 0; i < dek.length; i++) {
    out[2 * i] = hex.charCodeAt(dek[i]! >> 4);
    out[2 * i + 1] = hex.charCodeAt(dek[i]! & 15);
  }
  return out;
}

/** LUKS1 spec §3.1: the master key digest is PBKDF2(mk, mkDigestSalt, mkDigestIterations), 20 bytes. */
export function masterKeyDigest(mk: Buffer, h: Pick<LuksHeader, 'mkDigestSalt' | 'mkDigestIterations' | 'hashSpec'>): Buffer {
  return pbkdf2Sync(mk, h.mkDigestSalt, h.mkDigestIterations, DIGEST_BYTES, h.hashSpec);
}

/** Keyslot area layout shared by cryptsetup and QEMU: 4 KiB aligned areas after the first 4 KiB. */
export function keyslotOffset(index: number, keyBytes: number): number {
  const area = Math.ceil(keyMaterialSectors(keyBytes, AF_STRIPES) / KEYSLOT_ALIGN_SECTORS) * KEYSLOT_ALIGN_SECTORS;
  return FIRST_KEYSLOT_SECTOR + index * area;
}

/** A fresh header for a new random master key (which the caller zeroes); no keyslot enabled yet. */
export function newHeader(mk: Buffer): LuksHeader {
  const mkDigestSalt = randomBytes(SALT_BYTES);
  const h: LuksHeader = {
    cipherName: 'aes',
    cipherMode: 'xts-plain64',
    hashSpec: 'sha256',
    payloadOffset: PAYLOAD_OFFSET_SECTORS,
    keyBytes: MASTER_KEY_BYTES,
    mkDigest: Buffer.alloc(DIGEST_BYTES),
    mkDigestSalt,
    mkDigestIterations: MK_DIGEST_ITERATIONS,
    uuid: randomUUID(),
    keyslots: [],
  };
  h.mkDigest = masterKeyDigest(mk, h);
  for (let i = 0; i < KEYSLOTS; i++) {
    h.keyslots.push({ active: false, iterations: 0, salt: Buffer.alloc(SALT_BYTES), keyMaterialOffset: keyslotOffset(i, h.keyBytes), stripes: AF_STRIPES });
  }
  return h;
}

/**
 * Fills keyslot `index` for `passphrase` (LUKS1 spec §3.1 "add key"): PBKDF2 → key-slot key,
 * AF-split master key, encrypted with aes-xts-plain64, sector numbers counted from the area start.
 * Returns the encrypted material to write at keyMaterialOffset; marks the slot active in `h`.
 */
export function fillKeyslot(h: LuksHeader, index: number, mk: Buffer, passphrase: Buffer, iterations: number): Buffer {
  const ks = h.keyslots[index] as Keyslot;
  const salt = randomBytes(SALT_BYTES);
  const slotKey = pbkdf2Sync(passphrase, salt, iterations, h.keyBytes, h.hashSpec);
  const split = afSplit(mk, AF_STRIPES, h.hashSpec);
  const material = Buffer.alloc(keyMaterialSectors(h.keyBytes, AF_STRIPES) * SECTOR);
  split.copy(material);
  zero(split);
  const xts = new XtsCipher(slotKey);
  xts.encrypt(material, 0);
  xts.destroy();
  zero(slotKey);
  h.keyslots[index] = { active: true, iterations, salt, keyMaterialOffset: ks.keyMaterialOffset, stripes: AF_STRIPES };
  return material;
}

const pbkdf2Async = promisify(pbkdf2);

/**
 * Tries `passphrase` on one active keyslot whose encrypted material is given; returns the master
 * key when its digest matches, else undefined (wrong passphrase or damaged keyslot). The PBKDF2
 * runs (up to MAX_ITERATIONS each, header-controlled) are off the event loop, so a daemon using
 * this module keeps answering while a disk opens.
 */
export async function tryKeyslot(h: LuksHeader, ks: Keyslot, material: Buffer, passphrase: Buffer): Promise<Buffer | undefined> {
  const slotKey = await pbkdf2Async(passphrase, ks.salt, ks.iterations, h.keyBytes, h.hashSpec);
  const plain = Buffer.from(material);
  const xts = new XtsCipher(slotKey);
  xts.decrypt(plain, 0);
  xts.destroy();
  zero(slotKey);
  const mk = afMerge(plain, h.keyBytes, ks.stripes, h.hashSpec);
  zero(plain);
  const digest = await pbkdf2Async(mk, h.mkDigestSalt, h.mkDigestIterations, DIGEST_BYTES, h.hashSpec);
  if (constantTimeEqual(digest, h.mkDigest)) return mk;
  zero(mk);
  return undefined;
}
