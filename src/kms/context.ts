import type { ProtocolVersion } from '../kmip/message/protocol-version.js';
import type { TtlvItem } from '../kmip/ttlv/index.js';
import type { AuditLog } from './audit.js';
import type { KeySealer } from './key-material-seal.js';
import type { KeyStore } from './store/types.js';

/** What the operations need from the outside world; injected so tests can fake clock and randomness. */
export interface KmsDeps {
  readonly store: KeyStore;
  readonly sealer: KeySealer;
  readonly audit: AuditLog;
  readonly now: () => Date;
  readonly randomBytes: (n: number) => Buffer;
  /** Called before every batch item; throws to refuse it (a sealed key server throws SEALED). */
  readonly gate?: () => void;
}

/** One batch item being served. */
export interface OpContext {
  readonly deps: KmsDeps;
  /** Authenticated client identity (certificate CN or `sha256:<fingerprint>`). */
  readonly identity: string;
  readonly version: ProtocolVersion;
  /** The batch's ID Placeholder (KMIP 1.4 §4): set by Create/Register/Locate, used when a UID is omitted. */
  readonly batch: { idPlaceholder?: string };
}

export interface OpResult {
  readonly payload: TtlvItem;
  /** Object the operation acted on, for the audit log. */
  readonly objectId?: string;
  /** Buffers referenced by `payload` that hold key bytes: zeroed once the response is encoded. */
  readonly secrets?: readonly Buffer[];
  /**
   * A store write the operation started and did not wait for (the Fresh flip of a Get): the
   * message layer waits for it, alongside the audit log's fsync, before the response leaves,
   * and answers General Failure if it fails. Later items of the batch run once it is done.
   */
  readonly durable?: Promise<void>;
}

export type OperationHandler = (ctx: OpContext, payload: TtlvItem | undefined) => Promise<OpResult>;
