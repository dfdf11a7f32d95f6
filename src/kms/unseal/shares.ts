import { createHash } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { KmsError } from '../errors.js';

/**
 * Shamir's secret sharing over GF(2^8) of the 32-byte unseal key, by `shamir-secret-sharing`
 * (Privy; zero dependencies, audited by Cure53 and Zellic; the x coordinate is the share's last
 * byte). Our text form adds a 4-hex-digit checksum so a mistyped share is told apart from a
 * wrong one:  "<66 hex digits of the share>-<first 2 bytes of SHA-256 of the share, hex>".
 */
export const UNSEAL_KEY_BYTES = 32;
const SHARE_BYTES = UNSEAL_KEY_BYTES + 1;
const SHARE_RE = /^([0-9a-f]{66})-([0-9a-f]{4})$/;
export const MAX_SHARES = 16;

function checksum(share: Uint8Array): string {
  return createHash('sha256').update(share).digest('hex').slice(0, 4);
}

export function checkShareCounts(shares: number, threshold: number): void {
  if (!Number.isInteger(shares) || !Number.isInteger(threshold) || threshold < 2 || shares < threshold || shares > MAX_SHARES) {
    throw new KmsError('CONFIG_INVALID', `shares and threshold must satisfy 2 <= threshold <= shares <= ${MAX_SHARES} (got ${shares} shares, threshold ${threshold})`);
  }
}

/** Splits the unseal key; returns the shares as text. The caller zeroes `unsealKey`. */
export async function splitUnsealKey(unsealKey: Buffer, shares: number, threshold: number): Promise<string[]> {
  checkShareCounts(shares, threshold);
  if (unsealKey.length !== UNSEAL_KEY_BYTES) throw new KmsError('CONFIG_INVALID', 'unseal key must be 32 bytes');
  const parts = await split(new Uint8Array(unsealKey), shares, threshold);
  const out = parts.map((p) => `${Buffer.from(p).toString('hex')}-${checksum(p)}`);
  for (const p of parts) p.fill(0);
  return out;
}

/** Parses one share's text (bounded, checksum checked); the caller zeroes the result. */
export function parseShare(text: string): Buffer {
  const m = SHARE_RE.exec(text.trim().toLowerCase().slice(0, 200));
  if (m === null || m[1] === undefined) {
    throw new KmsError('UNSEAL_SHARE_INVALID', `an unseal share is ${SHARE_BYTES * 2} hex digits, a dash and a 4-digit checksum`);
  }
  const share = Buffer.from(m[1], 'hex');
  if (checksum(share) !== m[2]) {
    share.fill(0);
    throw new KmsError('UNSEAL_SHARE_INVALID', 'the unseal share does not match its checksum (mistyped?)');
  }
  return share;
}

/** The x coordinate of a share (its last byte): two shares with the same one are the same share. */
export function shareIndex(share: Buffer): number {
  return share[share.length - 1] ?? 0;
}

/** Combines shares into the unseal key (a wrong set gives a wrong key: the caller must check it). */
export async function combineShares(shares: readonly Buffer[]): Promise<Buffer> {
  const parts = shares.map((s) => new Uint8Array(s));
  try {
    const key = await combine(parts);
    const out = Buffer.from(key);
    key.fill(0);
    return out;
  } finally {
    for (const p of parts) p.fill(0);
  }
}
