/**
 * Base of every error vmcrypt raises on purpose. Each component keeps its own
 * `errors.ts` with a subclass and a table of stable codes; the CLI maps any
 * VmcryptError to its message and exit code, never to a stack trace.
 *
 * Messages must never contain key bytes (raw, hex or base64).
 */
export class VmcryptError extends Error {
  readonly code: string;
  readonly exitCode: number;

  constructor(code: string, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options?.exitCode ?? 1;
  }
}

/** Bad command-line usage: exit code 2 like most Unix tools. */
export class UsageError extends VmcryptError {
  constructor(message: string) {
    super('USAGE', message, { exitCode: 2 });
  }
}
