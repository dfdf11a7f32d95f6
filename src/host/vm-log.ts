import { open, type FileHandle } from 'node:fs/promises';
import { openWith, sealWith } from './vm-crypto.js';
import { HostError } from './errors.js';

/**
 * The VM log (`NAME.log`). Encrypted VMs: a sequence of records u32 BE length ‖ GCM envelope
 * of one line under the VM DEK (AAD = "<uuid>:log"), so a line is readable only with the
 * VM's key. Plain VMs: text lines. While a VM runs, the logger keeps its own DEK copy and
 * zeroes it on close().
 */
export class VmLog {
  readonly #fh: FileHandle;
  readonly #dek: Buffer | undefined;
  readonly #aad: string;
  #chain: Promise<void> = Promise.resolve();

  private constructor(fh: FileHandle, dek: Buffer | undefined, uuid: string) {
    this.#fh = fh;
    this.#dek = dek === undefined ? undefined : Buffer.from(dek);
    this.#aad = `${uuid}:log`;
  }

  static async open(path: string, uuid: string, dek: Buffer | undefined): Promise<VmLog> {
    return new VmLog(await open(path, 'a', 0o600), dek, uuid);
  }

  /** Appends one line (timestamped); writes are serialised. */
  append(line: string): Promise<void> {
    const text = `${new Date().toISOString()} ${line.replace(/\n+$/, '')}`.slice(0, 16384);
    const next = this.#chain.then(async () => {
      if (this.#dek === undefined) {
        await this.#fh.write(text + '\n');
        return;
      }
      const env = sealWith(this.#dek, Buffer.from(text, 'utf8'), this.#aad);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(env.length);
      await this.#fh.write(Buffer.concat([len, env]));
    });
    this.#chain = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.#chain;
    this.#dek?.fill(0);
    await this.#fh.close();
  }
}

/** Reads an encrypted VM log back (for support bundles and tests). */
export function decodeVmLog(data: Buffer, uuid: string, dek: Buffer): string[] {
  const lines: string[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new HostError('HOST_FILE_CRYPTO', 'VM log truncated');
    const len = data.readUInt32BE(pos);
    if (len > 65536 || pos + 4 + len > data.length) throw new HostError('HOST_FILE_CRYPTO', 'VM log record invalid');
    const plain = openWith(dek, data.subarray(pos + 4, pos + 4 + len), `${uuid}:log`, 'VM log record');
    lines.push(plain.toString('utf8'));
    plain.fill(0);
    pos += 4 + len;
  }
  return lines;
}
