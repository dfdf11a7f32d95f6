import { randomBytes } from 'node:crypto';

/**
 * The one-time key of one migration (issue 14, seed 002: "256-bit encryption keys" per vMotion):
 * 32 random bytes and an 8-byte nonce from the manager's CSPRNG, never from the KMS, never
 * stored or logged, given to both hosts and zeroed right after. The base64 strings of the
 * request bodies cannot be wiped; they live only for the two calls.
 */
export class OneTimeKey {
  readonly #key = randomBytes(32);
  readonly #nonce = randomBytes(8);
  #zeroed = false;

  /** The JSON fields of the contract: `{ key, nonce }` in base64. */
  fields(): { key: string; nonce: string } {
    if (this.#zeroed) throw new Error('the one-time migration key was already zeroed');
    return { key: this.#key.toString('base64'), nonce: this.#nonce.toString('base64') };
  }

  zero(): void {
    this.#key.fill(0);
    this.#nonce.fill(0);
    this.#zeroed = true;
  }

  get zeroed(): boolean {
    return this.#zeroed;
  }

  /** Never print the key by accident. */
  toJSON(): string {
    return '[one-time key]';
  }
}
