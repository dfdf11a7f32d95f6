import { readFile, stat } from 'node:fs/promises';
import { dekFromHex } from '../crypto/dek.js';
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
  if (source.kind === 'file') {
    const st = await stat(source.path).catch(() => undefined);
    if (st === undefined || !st.isFile() || st.size > 1024) throw new HostError('HOST_BAD_REQUEST', `${source.path}: not a key file (64 hex characters)`);
    return dekFromHex(await readFile(source.path, 'utf8'));
  }
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
