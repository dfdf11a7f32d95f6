import { readFile, stat } from 'node:fs/promises';
import { dekFromHexBytes } from '../crypto/dek.js';
import { isGroupOrOtherAccessible, modeString } from '../fs/private-files.js';
import { KmipClient } from '../kmip/client/index.js';
import { HostError } from '../host/errors.js';

/**
 * Where `crypto-util` gets a key (the host key of a core dump, or a new one for recrypt):
 * a KMIP Get by key id from the key provider, with operator credentials (mutual TLS), or —
 * for labs and tests — a key file of 64 hex characters. The caller zeroes the result.
 */
export type KeySource =
  | { readonly kind: 'file'; readonly path: string }
  | {
      readonly kind: 'kmip';
      readonly host: string;
      readonly port: number;
      readonly certFile: string;
      readonly keyFile: string;
      readonly caFile: string;
      readonly keyId: string;
      readonly serverName?: string;
    };

export async function fetchKey(source: KeySource): Promise<Buffer> {
  if (source.kind === 'file') return readKeyFile(source.path);
  const [cert, key, ca] = await Promise.all([readFile(source.certFile), readFile(source.keyFile), readFile(source.caFile)]);
  const client = KmipClient.connect({
    host: source.host,
    port: source.port,
    tls: { cert, key, ca, ...(source.serverName === undefined ? {} : { serverName: source.serverName }) },
  });
  try {
    const fetched = await client.get(source.keyId);
    if (fetched.material.length !== 32) {
      fetched.material.fill(0);
      throw new HostError('HOST_BAD_REQUEST', `key ${source.keyId} is not a 256-bit key`);
    }
    return fetched.material;
  } finally {
    key.fill(0);
    await client.close().catch(() => undefined);
  }
}

/**
 * A key file: 64 hex characters, mode 0600 (refused when group or others may read it, as PEM
 * private keys are). Read into a Buffer and parsed without a JS string, so every copy of the key
 * can be zeroed.
 */
export async function readKeyFile(path: string): Promise<Buffer> {
  const st = await stat(path).catch(() => undefined);
  if (st === undefined || !st.isFile() || st.size > 1024) throw new HostError('HOST_BAD_REQUEST', `${path}: not a key file (64 hex characters)`);
  if (isGroupOrOtherAccessible(st.mode)) {
    throw new HostError('HOST_BAD_REQUEST', `${path} has mode ${modeString(st.mode)}: a key file must be readable by its owner only (chmod 600)`);
  }
  const bytes = await readFile(path);
  try {
    const text = bytes.subarray(0, 1024);
    let n = 0;
    let nonHex = false;
    for (const c of text) {
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
      n++;
      if (!((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66))) nonHex = true;
    }
    if (nonHex) throw new HostError('HOST_BAD_REQUEST', `${path}: a key must be 64 hex characters; this file holds characters that are not hex (0-9, a-f)`);
    if (n !== 64) throw new HostError('HOST_BAD_REQUEST', `${path}: a key must be exactly 64 hex characters (got ${n})`);
    return dekFromHexBytes(bytes);
  } finally {
    bytes.fill(0);
  }
}
