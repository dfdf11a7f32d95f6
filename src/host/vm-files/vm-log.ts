import type { FileHandle } from 'node:fs/promises';
import { openPrivateFile } from '../../fs/private-files.js';
import { SealPurpose } from '../../crypto/seal-purpose.js';
import { openWith, sealWith } from './vm-crypto.js';
import { HostError } from '../errors.js';

/**
 * The VM log (`NAME.log`). Encrypted VMs: a sequence of records u32 BE length ‖ gcm-seal box
 * of one line under the VM DEK, purpose "vm-log-record", bound to the uuid and the record
 * index (pre-2.0 records: AAD "<uuid>:log:<index>", still read, may precede new ones), so a line is readable
 * only with the VM's key, and records cannot be reordered, dropped from the middle or moved
 * to another VM's log unnoticed. Plain VMs: text lines. While a VM runs, the logger keeps
 * its own DEK copy and zeroes it on close().
 */
const MAX_RECORD_BYTES = 65536;

const recordContext = (uuid: string, index: number) => ({ purpose: SealPurpose.VM_LOG_RECORD, binding: [uuid, index] }) as const;
const legacyRecordAad = (uuid: string, index: number): string => `${uuid}:log:${index}`;

export class VmLog {
  readonly #fh: FileHandle;
  readonly #dek: Buffer | undefined;
  readonly #uuid: string;
  #next: number;
  #chain: Promise<void> = Promise.resolve();

  private constructor(fh: FileHandle, dek: Buffer | undefined, uuid: string, next: number) {
    this.#fh = fh;
    this.#dek = dek === undefined ? undefined : Buffer.from(dek);
    this.#uuid = uuid;
    this.#next = next;
  }

  /** Opens for appending; an encrypted log's existing records are counted (by their lengths). */
  static async open(path: string, uuid: string, dek: Buffer | undefined): Promise<VmLog> {
    const fh = await openPrivateFile(path, 'a+');
    try {
      const { count, cutAt } = dek === undefined ? { count: 0 } : await countRecords(fh);
      const log = new VmLog(fh, dek, uuid, count);
      if (cutAt !== undefined) await log.append(`log: torn or damaged record cut off at byte ${cutAt}`).catch(() => undefined);
      return log;
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Appends one line (timestamped); writes are serialised. */
  append(line: string): Promise<void> {
    const text = `${new Date().toISOString()} ${line.replace(/\n+$/, '')}`.slice(0, 16384);
    const next = this.#chain.then(async () => {
      if (this.#dek === undefined) {
        await this.#fh.write(text + '\n');
        return;
      }
      const env = sealWith(this.#dek, Buffer.from(text, 'utf8'), recordContext(this.#uuid, this.#next++));
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

/**
 * Number of whole records in an encrypted log. A torn last record (a crash mid-append) or a
 * damaged length is cut off there, so the log stays appendable (the VM must still power on).
 */
async function countRecords(fh: FileHandle): Promise<{ count: number; cutAt?: number }> {
  const size = (await fh.stat()).size;
  const len = Buffer.alloc(4);
  let pos = 0;
  let count = 0;
  while (pos < size) {
    const { bytesRead } = await fh.read(len, 0, 4, pos);
    const l = bytesRead === 4 ? len.readUInt32BE(0) : -1;
    if (l < 0 || l > MAX_RECORD_BYTES || pos + 4 + l > size) {
      await fh.truncate(pos);
      return { count, cutAt: pos };
    }
    pos += 4 + l;
    count++;
  }
  return { count };
}

/** Reads an encrypted VM log back (for support bundles and tests). */
export function decodeVmLog(data: Buffer, uuid: string, dek: Buffer): string[] {
  const lines: string[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new HostError('HOST_FILE_CRYPTO', 'VM log truncated');
    const len = data.readUInt32BE(pos);
    if (len > MAX_RECORD_BYTES || pos + 4 + len > data.length) throw new HostError('HOST_FILE_CRYPTO', 'VM log record invalid');
    const plain = openWith(dek, data.subarray(pos + 4, pos + 4 + len), recordContext(uuid, lines.length), legacyRecordAad(uuid, lines.length), 'VM log record');
    lines.push(plain.toString('utf8'));
    plain.fill(0);
    pos += 4 + len;
  }
  return lines;
}
