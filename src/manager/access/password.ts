import { randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import { constantTimeEqual } from '../../crypto/guards.js';
import { ManagerError } from '../errors.js';

/** scrypt N=2^15 r=8 p=1 (RFC 7914; OWASP's minimum): 32 MiB and ~0.1 s per guess. */
const LOG_N = 15;
const R = 8;
const P = 1;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const opts: ScryptOptions = { N: 2 ** logN, r, p, maxmem: 2 * 128 * 2 ** logN * r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, HASH_BYTES, opts, (err, key) => (err === null ? resolve(key) : reject(err)));
  });
}

export function checkPasswordPolicy(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new ManagerError('MANAGER_BAD_REQUEST', `password: must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH) throw new ManagerError('MANAGER_BAD_REQUEST', `password: must be at most ${MAX_PASSWORD_LENGTH} characters`);
}

/** `scrypt$15$8$1$<salt b64>$<hash b64>`: the parameters travel with the hash so they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, LOG_N, R, P);
  const encoded = `scrypt$${LOG_N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
  hash.fill(0);
  return encoded;
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [logN, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  // bounded: a corrupted row must not make one login allocate gigabytes
  if (!Number.isInteger(logN) || logN < 10 || logN > 20 || !Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const want = Buffer.from(parts[5] ?? '', 'base64');
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  const got = await derive(password, salt, logN, r, p);
  try {
    return constantTimeEqual(got, want);
  } finally {
    got.fill(0);
    want.fill(0);
  }
}
