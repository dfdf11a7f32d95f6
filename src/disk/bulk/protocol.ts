/** Messages between the bulk engine and its worker threads. */
/** Key bytes arrive in ArrayBuffers transferred to the worker (no serialised copy); it zeroes them. */
export interface WorkerInit {
  /** Master key that decrypts the source payload (decrypt, deep rekey). */
  readonly srcKey?: Uint8Array;
  /** Master key that encrypts the destination payload (encrypt, deep rekey). */
  readonly dstKey?: Uint8Array;
}

export type BulkOp = 'encrypt' | 'decrypt' | 'reencrypt';

/** Sent by XtsPool.close(): the worker wipes its cipher state and exits. */
export interface WorkerClose {
  readonly close: true;
}

/** The worker's last message: its cipher scratch memory was wiped and it is about to exit. */
export interface WorkerClosed {
  readonly closed: true;
}

export interface WorkerJob {
  readonly id: number;
  readonly op: BulkOp;
  /** Transferred, not copied; comes back in the reply. */
  readonly data: ArrayBuffer;
  readonly length: number;
  /** Payload sector number of the first byte (plain64 tweak). */
  readonly sector: number;
}

export interface WorkerReply {
  readonly id: number;
  readonly data: ArrayBuffer;
  readonly length: number;
  /** decrypt only: the plaintext is all zeros (the engine leaves a hole). */
  readonly zero: boolean;
  readonly error?: string;
}
