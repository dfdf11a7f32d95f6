import { HostError } from '../errors.js';

/**
 * Largest number of KEKs one host holds (bounds what a caller can push). vSphere gives every
 * VM its own KEK by default, so the bound is sized for a host carrying vCenter-scale VM counts
 * (thousands of VMs, each with a KEK, plus per-disk and half-rekeyed keys): 65,536 keys. RAM
 * only: 32 bytes of key plus the Map entry, Buffer object and id string; measured full with
 * uuid ids: 11.4 MiB heap + 2 MiB buffers (≈ 215 bytes a key; 256-character ids ≈ 30 MiB).
 * A push beyond it is refused (HOST_CONFLICT), never evicts.
 */
export const MAX_CACHED_KEYS = 65_536;
const KEY_ID_RE = /^[\x21-\x7e]{1,256}$/;

/** A key id as the KMS names it: printable ASCII, no spaces, at most 256 characters. */
export function validateKeyId(keyId: unknown, label = 'keyId'): string {
  if (typeof keyId !== 'string' || !KEY_ID_RE.test(keyId)) {
    throw new HostError('HOST_BAD_REQUEST', `${label} must be 1–256 printable ASCII characters without spaces`);
  }
  return keyId;
}

/**
 * The host's key cache: KEKs pushed by the manager, held only in process memory.
 * Every Buffer it owns is its own copy, zeroed when the key is removed or the cache cleared
 * (on exit). Nothing here is ever serialised: `ids()` is the only view that leaves.
 */
export class KeyCache {
  readonly #keys = new Map<string, Buffer>();
  readonly #listeners = new Set<(keyIds: readonly string[]) => void>();

  /** Stores a copy of `key` (32 bytes) under `keyId`, zeroing any previous copy. */
  put(keyId: string, key: Uint8Array): void {
    validateKeyId(keyId);
    if (key.length !== 32) throw new HostError('HOST_BAD_REQUEST', `key ${keyId}: expected 32 bytes, got ${key.length}`);
    const old = this.#keys.get(keyId);
    if (old === undefined && this.#keys.size >= MAX_CACHED_KEYS) {
      throw new HostError('HOST_CONFLICT', `key cache full (${MAX_CACHED_KEYS} keys)`);
    }
    old?.fill(0);
    this.#keys.set(keyId, Buffer.from(key));
    this.#notify([keyId]);
  }

  has(keyId: string): boolean {
    return this.#keys.has(keyId);
  }

  /**
   * Runs `fn` with a temporary copy of the key (zeroed right after, even on throw);
   * callers never keep a reference to cache memory.
   */
  with<T>(keyId: string, fn: (key: Buffer) => T): T {
    const key = this.#keys.get(keyId);
    if (key === undefined) throw new HostError('HOST_KEY_MISSING', `key ${keyId} is not in this host's key cache`);
    const copy = Buffer.from(key);
    try {
      const out = fn(copy);
      if (out instanceof Promise) throw new Error('KeyCache.with: use withAsync for async work');
      return out;
    } finally {
      copy.fill(0);
    }
  }

  async withAsync<T>(keyId: string, fn: (key: Buffer) => Promise<T>): Promise<T> {
    const key = this.#keys.get(keyId);
    if (key === undefined) throw new HostError('HOST_KEY_MISSING', `key ${keyId} is not in this host's key cache`);
    const copy = Buffer.from(key);
    try {
      return await fn(copy);
    } finally {
      copy.fill(0);
    }
  }

  /** Removes and zeroes a key; false when it was not there. */
  remove(keyId: string): boolean {
    const key = this.#keys.get(keyId);
    if (key === undefined) return false;
    key.fill(0);
    this.#keys.delete(keyId);
    return true;
  }

  ids(): string[] {
    return [...this.#keys.keys()].sort();
  }

  get size(): number {
    return this.#keys.size;
  }

  /** Zeroes and forgets every key (agent exit). */
  clear(): void {
    for (const key of this.#keys.values()) key.fill(0);
    this.#keys.clear();
  }

  /** Called with the ids just pushed: the agent unlocks VMs waiting for them. */
  onPut(listener: (keyIds: readonly string[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(keyIds: readonly string[]): void {
    for (const l of this.#listeners) l(keyIds);
  }
}
