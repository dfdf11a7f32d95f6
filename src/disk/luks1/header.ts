import { DiskError } from '../errors.js';
import { isMarker, markerOp } from '../inplace/marker-record.js';
import { unfinishedInPlace } from '../inplace/messages.js';
import {
  AF_STRIPES, DIGEST_BYTES, KEYSLOT_DISABLED, KEYSLOT_ENABLED, KEYSLOTS, LUKS_MAGIC, LUKS_VERSION,
  MAX_ITERATIONS, MAX_UNLOCK_WORK, PHDR_BYTES, SALT_BYTES, SECTOR,
} from './constants.js';

/** One of the 8 keyslot entries of the phdr (LUKS1 spec §2.3, 48 bytes each). */
export interface Keyslot {
  active: boolean;
  iterations: number;
  salt: Buffer;
  keyMaterialOffset: number;
  stripes: number;
}

/** The 592-byte LUKS1 partition header (spec §2.2); all integers big-endian. */
export interface LuksHeader {
  cipherName: string;
  cipherMode: string;
  hashSpec: string;
  payloadOffset: number;
  keyBytes: number;
  mkDigest: Buffer;
  mkDigestSalt: Buffer;
  mkDigestIterations: number;
  uuid: string;
  keyslots: Keyslot[];
}

/** Supported LUKS hash specs and their digest sizes (PBKDF2 cost is per digest-sized block). */
const DIGEST_SIZES: Readonly<Record<string, number>> = { sha1: 20, sha256: 32, sha512: 64 };
/** Largest payload offset we accept (64 MiB): bounds what we read before the payload. */
const MAX_PAYLOAD_SECTORS = 131072;

function readStr(buf: Buffer, off: number, len: number): string {
  const raw = buf.subarray(off, off + len);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? len : end).toString('latin1');
}

function corrupt(what: string): DiskError {
  return new DiskError('DISK_HEADER_CORRUPT', `corrupted LUKS header: ${what}`);
}

/** Bytes of AF-split key material of one keyslot, rounded up to whole sectors. */
export function keyMaterialSectors(keyBytes: number, stripes: number): number {
  return Math.ceil((keyBytes * stripes) / SECTOR);
}

/**
 * Worst-case PBKDF2 cost of opening a disk, in digest-block iterations: every enabled keyslot
 * derives keyBytes (ceil(keyBytes / digest) blocks per iteration) and then checks the master key
 * digest (20 bytes: one block).
 */
export function unlockWork(h: Pick<LuksHeader, 'hashSpec' | 'keyBytes' | 'mkDigestIterations' | 'keyslots'>): number {
  const blocks = Math.ceil(h.keyBytes / (DIGEST_SIZES[h.hashSpec] ?? 20));
  return h.keyslots.reduce((sum, k) => (k.active ? sum + k.iterations * blocks + h.mkDigestIterations : sum), 0);
}

/**
 * Parses and validates a phdr. `fileSize` lets us name truncation precisely. Throws DISK_NOT_LUKS,
 * DISK_UNSUPPORTED, DISK_HEADER_CORRUPT or DISK_TRUNCATED naming the field.
 */
export function parseHeader(buf: Buffer, fileSize: number): LuksHeader {
  if (isMarker(buf)) throw unfinishedInPlace(markerOp(buf));
  if (fileSize < PHDR_BYTES || buf.length < PHDR_BYTES) {
    if (buf.length >= 6 && !buf.subarray(0, 6).equals(LUKS_MAGIC)) throw new DiskError('DISK_NOT_LUKS', 'not a LUKS disk (bad magic)');
    throw new DiskError('DISK_TRUNCATED', `truncated LUKS header: file has ${fileSize} bytes, the header needs ${PHDR_BYTES}`);
  }
  if (!buf.subarray(0, 6).equals(LUKS_MAGIC)) throw new DiskError('DISK_NOT_LUKS', 'not a LUKS disk (bad magic)');
  const version = buf.readUInt16BE(6);
  if (version !== LUKS_VERSION) {
    throw new DiskError('DISK_UNSUPPORTED', `LUKS version ${version} is not supported (QEMU and vmcrypt use LUKS1)`);
  }
  const h: LuksHeader = {
    cipherName: readStr(buf, 8, 32),
    cipherMode: readStr(buf, 40, 32),
    hashSpec: readStr(buf, 72, 32),
    payloadOffset: buf.readUInt32BE(104),
    keyBytes: buf.readUInt32BE(108),
    mkDigest: Buffer.from(buf.subarray(112, 112 + DIGEST_BYTES)),
    mkDigestSalt: Buffer.from(buf.subarray(132, 132 + SALT_BYTES)),
    mkDigestIterations: buf.readUInt32BE(164),
    uuid: readStr(buf, 168, 40),
    keyslots: [],
  };
  if (h.cipherName !== 'aes' || h.cipherMode !== 'xts-plain64') {
    throw new DiskError('DISK_UNSUPPORTED', `cipher ${JSON.stringify(`${h.cipherName}-${h.cipherMode}`.slice(0, 70))} is not supported (only aes-xts-plain64)`);
  }
  if (!Object.hasOwn(DIGEST_SIZES, h.hashSpec)) {
    throw new DiskError('DISK_UNSUPPORTED', `hash ${JSON.stringify(h.hashSpec.slice(0, 32))} is not supported (sha1, sha256, sha512)`);
  }
  if (h.keyBytes !== 32 && h.keyBytes !== 64) throw corrupt(`key size ${h.keyBytes} bytes (expected 32 or 64 for aes-xts)`);
  if (h.mkDigestIterations < 1 || h.mkDigestIterations > MAX_ITERATIONS) throw corrupt(`master key digest iterations ${h.mkDigestIterations}`);
  if (!/^[0-9a-fA-F-]{1,40}$/.test(h.uuid)) throw corrupt('UUID is not printable');
  if (h.payloadOffset < 1 || h.payloadOffset > MAX_PAYLOAD_SECTORS) throw corrupt(`payload offset ${h.payloadOffset} sectors`);
  for (let i = 0; i < KEYSLOTS; i++) {
    const off = 208 + 48 * i;
    const state = buf.readUInt32BE(off);
    if (state !== KEYSLOT_ENABLED && state !== KEYSLOT_DISABLED) throw corrupt(`keyslot ${i} state 0x${state.toString(16)}`);
    const ks: Keyslot = {
      active: state === KEYSLOT_ENABLED,
      iterations: buf.readUInt32BE(off + 4),
      salt: Buffer.from(buf.subarray(off + 8, off + 8 + SALT_BYTES)),
      keyMaterialOffset: buf.readUInt32BE(off + 40),
      stripes: buf.readUInt32BE(off + 44),
    };
    // Layout checks hold for disabled slots too (as QEMU checks them): a shallow rekey writes new
    // key material where a disabled slot points, which must be neither payload nor another slot.
    if (ks.stripes !== AF_STRIPES) throw corrupt(`keyslot ${i} AF stripes ${ks.stripes} (expected ${AF_STRIPES})`);
    const end = ks.keyMaterialOffset + keyMaterialSectors(h.keyBytes, ks.stripes);
    if (ks.keyMaterialOffset * SECTOR < PHDR_BYTES || end > h.payloadOffset) {
      throw corrupt(`keyslot ${i} key material offset ${ks.keyMaterialOffset} lies outside the header area`);
    }
    const overlapped = h.keyslots.findIndex((o) => ks.keyMaterialOffset < o.keyMaterialOffset + keyMaterialSectors(h.keyBytes, o.stripes) && o.keyMaterialOffset < end);
    if (overlapped !== -1) throw corrupt(`keyslot ${i} key material overlaps keyslot ${overlapped}`);
    if (ks.active) {
      if (ks.iterations < 1 || ks.iterations > MAX_ITERATIONS) throw corrupt(`keyslot ${i} iterations ${ks.iterations}`);
      if (end * SECTOR > fileSize) {
        throw new DiskError('DISK_TRUNCATED', `truncated LUKS disk: keyslot ${i} key material ends at byte ${end * SECTOR}, the file has ${fileSize}`);
      }
    }
    h.keyslots.push(ks);
  }
  if (!h.keyslots.some((k) => k.active)) throw corrupt('no keyslot is enabled');
  const work = unlockWork(h);
  if (work > MAX_UNLOCK_WORK) {
    throw corrupt(`PBKDF2 iterations of the enabled keyslots add up to ${work} block-iterations, more than the ${MAX_UNLOCK_WORK} we spend opening a disk`);
  }
  if (h.payloadOffset * SECTOR > fileSize) {
    throw new DiskError('DISK_TRUNCATED', `truncated LUKS disk: payload starts at byte ${h.payloadOffset * SECTOR}, the file has ${fileSize}`);
  }
  if ((fileSize - h.payloadOffset * SECTOR) % SECTOR !== 0) {
    throw new DiskError('DISK_TRUNCATED', `truncated LUKS disk: payload is not a whole number of 512-byte sectors`);
  }
  return h;
}

function writeStr(buf: Buffer, off: number, len: number, s: string): void {
  buf.fill(0, off, off + len);
  buf.write(s, off, len, 'latin1');
}

/** Serialises a phdr to its 592 bytes. */
export function serializeHeader(h: LuksHeader): Buffer {
  const buf = Buffer.alloc(PHDR_BYTES);
  LUKS_MAGIC.copy(buf, 0);
  buf.writeUInt16BE(LUKS_VERSION, 6);
  writeStr(buf, 8, 32, h.cipherName);
  writeStr(buf, 40, 32, h.cipherMode);
  writeStr(buf, 72, 32, h.hashSpec);
  buf.writeUInt32BE(h.payloadOffset, 104);
  buf.writeUInt32BE(h.keyBytes, 108);
  h.mkDigest.copy(buf, 112, 0, DIGEST_BYTES);
  h.mkDigestSalt.copy(buf, 132, 0, SALT_BYTES);
  buf.writeUInt32BE(h.mkDigestIterations, 164);
  writeStr(buf, 168, 40, h.uuid);
  h.keyslots.forEach((ks, i) => {
    const off = 208 + 48 * i;
    buf.writeUInt32BE(ks.active ? KEYSLOT_ENABLED : KEYSLOT_DISABLED, off);
    buf.writeUInt32BE(ks.iterations, off + 4);
    ks.salt.copy(buf, off + 8, 0, SALT_BYTES);
    buf.writeUInt32BE(ks.keyMaterialOffset, off + 40);
    buf.writeUInt32BE(ks.stripes, off + 44);
  });
  return buf;
}
