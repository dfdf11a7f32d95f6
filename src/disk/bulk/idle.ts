/**
 * The one idle worker set of a kind kept between operations of a process (a host agent runs
 * many; booting workers costs ~60–100 ms of CPU on the cores the operation needs). Shared by the
 * copy modes' XtsPool and the in-place walk's WalkWorkers: the owner decides what is reusable and
 * wipes keys / unrefs before keep(); this holds at most one set and closes whatever it replaces.
 */
export interface Closable {
  close(): Promise<void>;
}

export class IdleSet<T extends Closable> {
  #idle: T | undefined;

  /** Takes the kept set out (a concurrent borrower then boots its own); closes it unless `fits`. */
  take(fits: (kept: T) => boolean): T | undefined {
    const kept = this.#idle;
    this.#idle = undefined;
    if (kept === undefined) return undefined;
    if (fits(kept)) return kept;
    void kept.close();
    return undefined;
  }

  /** Keeps `set` for the next take(); the set kept before is closed. */
  async keep(set: T): Promise<void> {
    const previous = this.#idle;
    this.#idle = set;
    if (previous !== set) await previous?.close();
  }

  /** Whether `set` is the one kept now. */
  holds(set: T): boolean {
    return this.#idle === set;
  }

  /** Forgets `set` if it is the one kept (it is being closed). */
  drop(set: T): void {
    if (this.#idle === set) this.#idle = undefined;
  }
}
