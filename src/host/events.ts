/** The agent's event feed the manager polls (`GET /v1/events?after=SEQ`). In memory, bounded. */
export interface HostEvent {
  readonly seq: number;
  readonly time: string;
  readonly type: string;
  readonly message: string;
  readonly vmUuid?: string;
  readonly file?: string;
  readonly location?: string;
}

const MAX_EVENTS = 1000;

export class HostEvents {
  #events: HostEvent[] = [];
  #seq = 0;
  readonly #print: ((e: HostEvent) => void) | undefined;

  constructor(print?: (e: HostEvent) => void) {
    this.#print = print;
  }

  post(type: string, message: string, extra: Omit<HostEvent, 'seq' | 'time' | 'type' | 'message'> = {}): HostEvent {
    const e: HostEvent = { seq: ++this.#seq, time: new Date().toISOString(), type, message, ...extra };
    this.#events.push(e);
    // trimmed in steps, not per post: an unlock posts thousands of events in one go
    if (this.#events.length >= 2 * MAX_EVENTS) this.#events = this.#events.slice(-MAX_EVENTS);
    this.#print?.(e);
    return e;
  }

  after(seq: number, limit = 200): HostEvent[] {
    const kept = this.#events.slice(-MAX_EVENTS);
    return kept.filter((e) => e.seq > seq).slice(0, limit);
  }
}
