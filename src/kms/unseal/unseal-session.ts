import { KmsError } from '../errors.js';
import { openMaster, openNextMaster, type SealedMasterInfo } from './sealed-master.js';
import { combineShares, parseShare, shareIndex } from './shares.js';

export type UnsealProgress =
  | { readonly unsealed: false; readonly given: number; readonly threshold: number }
  | { readonly unsealed: true; readonly master: Buffer; readonly next?: Buffer; readonly unsealKey: Buffer };

/**
 * Collects unseal shares until the threshold, then rebuilds the unseal key and opens the master
 * key with it. A set that does not open it (a share of another KMS, a forged one) is dropped
 * whole: the operator starts again, as with Vault. Shares are held only here, zeroed when used.
 */
export class UnsealSession {
  readonly #info: SealedMasterInfo;
  readonly #shares = new Map<number, Buffer>();

  constructor(info: SealedMasterInfo) {
    this.#info = info;
  }

  get threshold(): number {
    return this.#info.threshold;
  }

  get given(): number {
    return this.#shares.size;
  }

  async add(text: string): Promise<UnsealProgress> {
    const share = parseShare(text);
    const x = shareIndex(share);
    const had = this.#shares.get(x);
    if (had !== undefined) {
      const same = had.equals(share);
      share.fill(0);
      if (!same) {
        this.reset();
        throw new KmsError('UNSEAL_SHARE_INVALID', 'two different shares with the same index: progress reset');
      }
      return { unsealed: false, given: this.given, threshold: this.threshold };
    }
    this.#shares.set(x, share);
    if (this.#shares.size < this.#info.threshold) return { unsealed: false, given: this.given, threshold: this.threshold };
    const unsealKey = await combineShares([...this.#shares.values()]);
    this.reset();
    try {
      const master = openMaster(this.#info, unsealKey);
      const next = openNextMaster(this.#info, unsealKey);
      // The unseal key goes back to the caller (a rotation needs it); the caller zeroes it.
      return { unsealed: true, master, ...(next === undefined ? {} : { next }), unsealKey: Buffer.from(unsealKey) };
    } catch (err) {
      if (err instanceof KmsError && err.code === 'UNSEAL_FAILED') {
        throw new KmsError('UNSEAL_FAILED', `${err.message}; progress reset, enter ${this.#info.threshold} shares again`, { cause: err });
      }
      throw err;
    } finally {
      unsealKey.fill(0);
    }
  }

  reset(): void {
    for (const s of this.#shares.values()) s.fill(0);
    this.#shares.clear();
  }
}
