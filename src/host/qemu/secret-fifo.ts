import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HostError } from '../errors.js';

const run = promisify(execFile);
export const FEED_TIMEOUT_MS = 60_000;

/**
 * Hands secrets to QEMU / qemu-img through named pipes (FIFOs) in a private 0700 directory:
 * QEMU reads `-object secret,file=FIFO`; the bytes travel only through the kernel pipe
 * buffer — never on a command line, never in a file's data blocks.
 *
 * Why not an inherited fd (`file=/dev/fd/3`): Node's child stdio "pipes" are socketpairs,
 * and open("/dev/fd/N") on a socket fails with ENXIO, so QEMU cannot read them.
 */
export class SecretFifos {
  readonly paths: readonly string[];

  private constructor(paths: string[]) {
    this.paths = paths;
  }

  static async create(dir: string, count: number): Promise<SecretFifos> {
    const paths = Array.from({ length: count }, () => join(dir, `secret-${randomBytes(8).toString('hex')}.fifo`));
    if (paths.length > 0) await run('mkfifo', ['-m', '0600', ...paths]);
    return new SecretFifos(paths);
  }

  /**
   * Writes each secret into its FIFO once the reader has opened it, in order (QEMU opens
   * them in command-line order), then closes it so the reader sees EOF. Secrets are zeroed.
   * `alive()` false (the reader exited) stops the wait; so does `timeoutMs` per FIFO.
   */
  async feed(secrets: readonly Buffer[], alive: () => boolean, timeoutMs = FEED_TIMEOUT_MS): Promise<void> {
    try {
      for (const [i, path] of this.paths.entries()) {
        const secret = secrets[i];
        if (secret === undefined) throw new HostError('HOST_QEMU_FAILED', 'missing secret');
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          try {
            // O_NONBLOCK: fails with ENXIO until a reader has the FIFO open (no blocked thread)
            const fh = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
            try {
              await fh.write(secret, 0, secret.length);
            } finally {
              await fh.close();
            }
            break;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
            if (!alive()) throw new HostError('HOST_QEMU_FAILED', 'QEMU exited before reading its disk secrets');
            if (Date.now() > deadline) throw new HostError('HOST_QEMU_FAILED', 'QEMU did not read its disk secrets');
            await new Promise((r) => setTimeout(r, 5));
          }
        }
      }
    } finally {
      for (const s of secrets) s.fill(0);
    }
  }

  async remove(): Promise<void> {
    await Promise.all(this.paths.map((p) => rm(p, { force: true })));
  }
}
