import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { CryptoError } from './errors.js';
import { abytes, constantTimeEqual } from './guards.js';
import { KEY_CHECK_BYTES, keyCheckValue } from './key-check.js';
import { writeAtomically } from '../fs/atomic-file.js';
import { readAt } from '../fs/positional-io.js';

/**
 * Streaming GCM envelope for big files (core dumps): the plaintext is cut into chunks, each
 * sealed with AES-256-GCM under nonce = prefix[7] ‖ final-flag[1] ‖ be32(chunk index), so chunks
 * cannot be reordered, dropped or the file truncated (the last chunk carries the final flag).
 *
 *   magic "VMCF" | version 1 | alg 1 | reserved u16 = 0 | chunkSize u32 BE | prefix[7] | kcv[16]  (39 bytes)
 *   { ciphertext ‖ tag[16] } per chunk; every chunk but the last holds exactly chunkSize bytes.
 *
 * GCM AAD of every chunk = header ‖ caller aad. dst is written atomically (temp file, fsync, rename).
 */
const MAGIC = Buffer.from('VMCF', 'latin1');
const PREFIX = 7;
const TAG = 16;
const HEADER = 12 + PREFIX + KEY_CHECK_BYTES;
const KCV_LABEL = 'vmcrypt-file-kcv-v1';
export const FILE_CHUNK_BYTES = 1 << 20;
const MAX_CHUNK = 16 << 20;

function chunkNonce(prefix: Buffer, index: number, final: boolean): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n[PREFIX] = final ? 1 : 0;
  n.writeUInt32BE(index, 8);
  return n;
}

export async function sealFile(key: Buffer, src: string, dst: string, aad: Buffer, chunkSize = FILE_CHUNK_BYTES): Promise<void> {
  abytes(key, 32, 'key');
  abytes(aad, undefined, 'aad');
  if (!Number.isInteger(chunkSize) || chunkSize < 16 || chunkSize > MAX_CHUNK) throw new CryptoError('BAD_INPUT', 'chunkSize out of range');
  const prefix = randomBytes(PREFIX);
  const header = Buffer.alloc(HEADER);
  MAGIC.copy(header, 0);
  header[4] = 1;
  header[5] = 1;
  header.writeUInt32BE(chunkSize, 8);
  prefix.copy(header, 12);
  keyCheckValue(key, KCV_LABEL, prefix).copy(header, 12 + PREFIX);
  const fullAad = Buffer.concat([header, aad]);
  const input = await open(src, 'r');
  try {
    const size = (await input.stat()).size;
    const chunks = Math.max(1, Math.ceil(size / chunkSize));
    if (chunks > 0xffffffff) throw new CryptoError('BAD_INPUT', 'file too large for this chunk size');
    await writeAtomically(dst, async (out) => {
      await out.write(header, 0, header.length, 0);
      let outPos = header.length;
      const buf = Buffer.alloc(chunkSize);
      for (let i = 0; i < chunks; i++) {
        const n = await readAt(input, buf, i * chunkSize);
        const c = createCipheriv('aes-256-gcm', key, chunkNonce(prefix, i, i === chunks - 1));
        c.setAAD(fullAad);
        const ct = Buffer.concat([c.update(buf.subarray(0, n)), c.final(), c.getAuthTag()]);
        await out.write(ct, 0, ct.length, outPos);
        outPos += ct.length;
      }
      buf.fill(0);
    });
  } finally {
    await input.close();
  }
}

export async function openFile(key: Buffer, src: string, dst: string, aad: Buffer): Promise<void> {
  abytes(key, 32, 'key');
  abytes(aad, undefined, 'aad');
  const input = await open(src, 'r');
  try {
    const size = (await input.stat()).size;
    const header = Buffer.alloc(HEADER);
    if ((await readAt(input, header, 0)) < HEADER || !header.subarray(0, 4).equals(MAGIC)) {
      throw new CryptoError('MALFORMED', 'encrypted file: not a vmcrypt file envelope (bad magic or too short)');
    }
    if (header[4] !== 1 || header[5] !== 1 || header.readUInt16BE(6) !== 0) {
      throw new CryptoError('MALFORMED', 'encrypted file: unsupported version or algorithm');
    }
    const chunkSize = header.readUInt32BE(8);
    if (chunkSize < 16 || chunkSize > MAX_CHUNK) throw new CryptoError('MALFORMED', 'encrypted file: chunk size out of range');
    const prefix = header.subarray(12, 12 + PREFIX);
    if (!constantTimeEqual(header.subarray(12 + PREFIX), keyCheckValue(key, KCV_LABEL, prefix))) {
      throw new CryptoError('WRONG_KEY', 'wrong key: this key did not seal the file');
    }
    const body = size - HEADER;
    const sealed = chunkSize + TAG;
    const chunks = Math.max(1, Math.ceil(body / sealed));
    if (body < TAG || body - (chunks - 1) * sealed < TAG) {
      throw new CryptoError('TAMPERED', 'encrypted file: truncated');
    }
    const fullAad = Buffer.concat([header, aad]);
    await writeAtomically(dst, async (out) => {
      const buf = Buffer.alloc(sealed);
      for (let i = 0; i < chunks; i++) {
        const n = await readAt(input, buf, HEADER + i * sealed);
        const d = createDecipheriv('aes-256-gcm', key, chunkNonce(prefix, i, i === chunks - 1));
        d.setAAD(fullAad);
        d.setAuthTag(buf.subarray(n - TAG, n));
        const pt = d.update(buf.subarray(0, n - TAG));
        try {
          d.final();
        } catch (err) {
          pt.fill(0);
          throw new CryptoError('TAMPERED', `encrypted file: chunk ${i} was modified, reordered or the file truncated`, { cause: err });
        }
        await out.write(pt, 0, pt.length, i * chunkSize);
        pt.fill(0);
      }
    });
  } finally {
    await input.close();
  }
}
