import type { TtlvItem } from '../ttlv/index.js';
import type { KmipOperationError } from './errors.js';

/**
 * One operation ready to go into a request message: its Operation, its Request Payload, and
 * how to read the Response Payload. Built by the functions in calls/; sent alone by
 * `KmipClient.send` or several in one message by `KmipClient.batch`.
 */
export interface OpCall<T> {
  /** Operation enumeration value (KMIP 1.4 §9.1.3.2.27). */
  readonly operation: number;
  /** Operation name for error messages, e.g. 'Create'. */
  readonly name: string;
  readonly payload: TtlvItem;
  readonly decode: (payload: TtlvItem | undefined) => T;
}

/** What one batch item gave: a value, or the server's Operation Failed for that item. */
export type BatchOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: KmipOperationError };

export type ResultOf<C> = C extends OpCall<infer T> ? T : never;
