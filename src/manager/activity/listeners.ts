/** A set of listeners where one throwing listener cannot stop the others (or the poster). */
export class Listeners<T> {
  readonly #set = new Set<(value: T) => void>();

  add(fn: (value: T) => void): () => void {
    this.#set.add(fn);
    return () => {
      this.#set.delete(fn);
    };
  }

  emit(value: T): void {
    for (const fn of [...this.#set]) {
      try {
        fn(value);
      } catch {
        // a subscriber's failure (e.g. a closed SSE socket) is its own business
      }
    }
  }

  get size(): number {
    return this.#set.size;
  }
}
