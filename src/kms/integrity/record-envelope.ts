import { KmsError } from '../errors.js';

/**
 * How an authenticated record's attributes are stored: the KMS's attribute document inside a
 * small JSON envelope with the record MAC. Records written before integrity existed hold the
 * bare attribute array (first character '['); they are adopted once, at open (see
 * authenticated-store.ts), then refused.
 */
export interface Envelope {
  readonly attributes: string;
  readonly mac: Buffer;
}

const MAC_BYTES = 32;
/** Bounded: the inner document is capped at 64 KiB by the KMS; JSON escaping can at most double it. */
const MAX_ENVELOPE = 192 * 1024;

export function encodeEnvelope(attributes: string, mac: Buffer): string {
  return JSON.stringify({ i: 1, m: mac.toString('base64'), a: attributes });
}

export function isLegacyAttributes(stored: string): boolean {
  return stored.startsWith('[');
}

/** Parses an envelope; RECORD_TAMPERED when it is not one. */
export function decodeEnvelope(id: string, stored: string): Envelope {
  const bad = (why: string) => new KmsError('RECORD_TAMPERED', `record ${id.slice(0, 256)} failed its integrity check (${why})`);
  if (stored.length > MAX_ENVELOPE) throw bad('too large');
  let raw: unknown;
  try {
    raw = JSON.parse(stored);
  } catch {
    throw bad('not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('no integrity tag');
  const v = raw as Record<string, unknown>;
  if (v['i'] !== 1 || typeof v['m'] !== 'string' || typeof v['a'] !== 'string') throw bad('bad envelope');
  const mac = Buffer.from(v['m'], 'base64');
  if (mac.length !== MAC_BYTES) throw bad('bad tag length');
  return { attributes: v['a'], mac };
}
