/**
 * The last `limit` characters a child wrote. A child that logs for days (etcd, a host agent)
 * must not grow the parent's memory with it; what matters for an error message is the end.
 */
export class OutputTail {
  readonly #limit: number;
  #text = '';

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('output limit must be a positive integer');
    this.#limit = limit;
  }

  append(text: string): void {
    this.#text += text;
    if (this.#text.length > this.#limit) this.#text = this.#text.slice(-this.#limit);
  }

  text(): string {
    return this.#text;
  }

  /** The last `n` characters, for an error message. */
  last(n: number): string {
    return this.#text.slice(-n);
  }

  clear(): void {
    this.#text = '';
  }
}
