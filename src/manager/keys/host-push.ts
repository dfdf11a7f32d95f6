import type { HostGateway } from '../contracts.js';
import { chunk, mapLimit } from './key-refs.js';

/** The host agent takes at most 256 keys per POST /v1/keys (docs/host.md). */
export const MAX_KEYS_PER_PUSH = 256;

export interface KeyMaterial {
  readonly keyId: string;
  /** 32 bytes; zeroed by whoever fetched it, not here. */
  readonly material: Buffer;
}

/**
 * Pushes KEKs into a host's RAM key cache, in requests of ≤256 keys, `parallel` at a time.
 * The base64 text of a request body is a JS string that cannot be wiped; it is dropped at once
 * and never logged (docs/manager.md, key hygiene).
 */
export async function pushKeysToHost(
  gateway: HostGateway,
  hostId: string,
  keys: readonly KeyMaterial[],
  options: { readonly chunkSize?: number; readonly parallel?: number } = {},
): Promise<void> {
  const size = Math.min(options.chunkSize ?? MAX_KEYS_PER_PUSH, MAX_KEYS_PER_PUSH);
  await mapLimit(chunk(keys, size), options.parallel ?? 4, async (part) => {
    await gateway.call(hostId, 'POST', '/v1/keys', { keys: part.map((k) => ({ keyId: k.keyId, key: k.material.toString('base64') })) });
  });
}
