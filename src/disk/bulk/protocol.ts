/** Messages between the bulk engine and its worker threads. */
export interface WorkerInit {
  /** Master key that decrypts the source payload (decrypt, deep rekey). */
  readonly srcKey?: Uint8Array;
  /** Master key that encrypts the destination payload (encrypt, deep rekey). */
  readonly dstKey?: Uint8Array;
}

export type BulkOp = 'encrypt' | 'decrypt' | 'reencrypt';

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
