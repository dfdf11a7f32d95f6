import { createHash } from 'node:crypto';
import { DiskError } from '../errors.js';

/**
 * Sector 0 of the in-progress block (marker.ts): a record that is not the LUKS magic, so QEMU,
 * qemu-img and cryptsetup refuse the file, and that names the operation for our opener.
 * Its own checksum; bounded JSON. No dependency on the LUKS header code (header.ts imports this).
 */
export const MARKER_MAGIC = Buffer.from('VMCRYPT-INPLACE1', 'latin1');
export const RECORD_BYTES = 512;
const RECORD_JSON_MAX = 440;

export const InPlaceOp = { encrypt: 'encrypt', decrypt: 'decrypt', rekey: 'rekey' } as const;
export type InPlaceOp = (typeof InPlaceOp)[keyof typeof InPlaceOp];

/** Geometry of an in-place operation, as written in the file itself. */
export interface MarkerRecord {
  readonly op: InPlaceOp;
  /** Random id shared with the sidecar: a sidecar of another run is never applied to this file. */
  readonly opId: string;
  /** Payload (virtual disk) bytes. */
  readonly size: number;
  /** Payload offset in bytes before (encrypt: 0, raw) and after (decrypt: 0). */
  readonly from: number;
  readonly to: number;
  /** Where the staging area starts (encrypt, decrypt), 0 when there is none (rekey). */
  readonly staging: number;
  /** Bytes of the header image kept in the staging area. */
  readonly headerArea: number;
}

export const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

export function isMarker(front: Buffer): boolean {
  return front.length >= MARKER_MAGIC.length && front.subarray(0, MARKER_MAGIC.length).equals(MARKER_MAGIC);
}

export function damaged(what: string): DiskError {
  return new DiskError('DISK_IN_PLACE_STATE', `in-place progress block damaged: ${what}`);
}

/** Writes the record into out[0, 512). */
export function encodeRecord(m: MarkerRecord, out: Buffer): void {
  MARKER_MAGIC.copy(out, 0);
  const json = Buffer.from(JSON.stringify({
    v: 1, op: m.op, opId: m.opId, size: m.size, from: m.from, to: m.to, staging: m.staging, headerArea: m.headerArea,
  }));
  if (json.length > RECORD_JSON_MAX) throw damaged('record too large');
  out.writeUInt32BE(json.length, 16);
  json.copy(out, 20);
  sha256(out.subarray(0, RECORD_BYTES - 32)).copy(out, RECORD_BYTES - 32);
}

const int = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw damaged(what);
  return v;
};

export function decodeRecord(front: Buffer): MarkerRecord {
  if (front.length < RECORD_BYTES || !isMarker(front)) throw damaged('magic');
  if (!sha256(front.subarray(0, RECORD_BYTES - 32)).equals(front.subarray(RECORD_BYTES - 32, RECORD_BYTES))) throw damaged('record checksum');
  const len = front.readUInt32BE(16);
  if (len > RECORD_JSON_MAX) throw damaged('record length');
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(front.subarray(20, 20 + len).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw damaged('record');
  }
  if (r['v'] !== 1 || typeof r['op'] !== 'string' || !Object.hasOwn(InPlaceOp, r['op'])) throw damaged('record version or op');
  if (typeof r['opId'] !== 'string' || !/^[0-9a-f]{32}$/.test(r['opId'])) throw damaged('operation id');
  return {
    op: r['op'] as InPlaceOp, opId: r['opId'], size: int(r['size'], 'size'), from: int(r['from'], 'from'),
    to: int(r['to'], 'to'), staging: int(r['staging'], 'staging'), headerArea: int(r['headerArea'], 'header area'),
  };
}

/** The op name only, for the opener's message; undefined when the record is unreadable. */
export function markerOp(front: Buffer): InPlaceOp | undefined {
  try {
    return decodeRecord(front).op;
  } catch {
    return undefined;
  }
}
