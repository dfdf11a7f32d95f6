import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * One audit record per batch item: who asked what about which object, and the result.
 * Never key bytes: handlers only pass ids, operation names and result messages, and result
 * messages never contain key material.
 */
export interface AuditEntry {
  readonly time: string;
  readonly identity: string;
  readonly operation: string;
  readonly objectId?: string;
  readonly result: 'success' | 'failure';
  readonly reason?: string;
  readonly message?: string;
  readonly peer?: string;
}

export interface AuditLog {
  record(entry: AuditEntry): void;
  close(): Promise<void>;
}

/** Appends JSON lines to a file (mode 0600). */
export function openFileAuditLog(path: string): AuditLog {
  const stream: WriteStream = createWriteStream(path, { flags: 'a', mode: 0o600 });
  stream.on('error', (err) => process.stderr.write(`kms: audit log ${path}: ${err.message}\n`));
  return {
    record(entry) {
      stream.write(JSON.stringify(entry) + '\n');
    },
    close: () => new Promise<void>((resolve) => stream.end(() => resolve())),
  };
}

/** Keeps entries in memory (tests, `kms serve --audit -`). */
export function memoryAuditLog(): AuditLog & { readonly entries: AuditEntry[] } {
  const entries: AuditEntry[] = [];
  return { entries, record: (e) => void entries.push(e), close: async () => {} };
}
