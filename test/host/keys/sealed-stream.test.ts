import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSealedFile, readSealedHeader, SEALED_CHUNK_BYTES, SEALED_MAGIC, SealedStreamWriter } from '../../../src/host/keys/sealed-stream.js';

describe('sealed stream', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmcrypt-sealed-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function seal(path: string, key: Buffer, data: Buffer): Promise<void> {
    const fh = await open(path, 'w');
    const w = await SealedStreamWriter.start(fh, key, { kind: 'coredump', keyId: 'host-1', createdAt: 'now' });
    await w.write(data.subarray(0, 1000));
    await w.write(data.subarray(1000));
    await w.finish();
    await fh.close();
  }

  async function unseal(path: string, key: Buffer): Promise<Buffer> {
    const parts: Buffer[] = [];
    await openSealedFile(path, key, async (p) => {
      parts.push(Buffer.from(p));
    });
    return Buffer.concat(parts);
  }

  it('round-trips multi-chunk data and keeps no plaintext', async () => {
    const key = randomBytes(32);
    const data = Buffer.concat([Buffer.alloc(SEALED_CHUNK_BYTES + 12345, 0x41), Buffer.from('MARKER-PLAINTEXT')]);
    const path = join(dir, 'a.vmdump');
    await seal(path, key, data);
    const raw = await readFile(path);
    expect(raw.includes(Buffer.from('MARKER-PLAINTEXT'))).toBe(false);
    expect(raw.includes(Buffer.alloc(64, 0x41))).toBe(false);
    expect((await readSealedHeader(path)).header.keyId).toBe('host-1');
    expect((await unseal(path, key)).equals(data)).toBe(true);
  });

  it('refuses a wrong key, a flipped byte and truncation', async () => {
    const key = randomBytes(32);
    const data = randomBytes(SEALED_CHUNK_BYTES * 2 + 10);
    const path = join(dir, 'b.vmdump');
    await seal(path, key, data);
    await expect(unseal(path, randomBytes(32))).rejects.toMatchObject({ code: 'HOST_COREDUMP_WRONG_KEY' });
    const raw = await readFile(path);
    const flipped = Buffer.from(raw);
    flipped[raw.length - 100] = (flipped[raw.length - 100] ?? 0) ^ 1;
    await writeFile(join(dir, 'c.vmdump'), flipped);
    await expect(unseal(join(dir, 'c.vmdump'), key)).rejects.toMatchObject({ code: 'HOST_COREDUMP_INVALID' });
    const { bodyOffset } = await readSealedHeader(path);
    const firstLen = raw.readUInt32BE(bodyOffset);
    await writeFile(join(dir, 'd.vmdump'), raw.subarray(0, bodyOffset + 4 + firstLen));
    await expect(unseal(join(dir, 'd.vmdump'), key)).rejects.toMatchObject({ code: 'HOST_COREDUMP_INVALID' });
  });

  /** Splits a sealed file into its header line and its chunk records (u32 BE length ‖ box). */
  async function parts(path: string): Promise<{ head: Buffer; chunks: Buffer[] }> {
    const raw = await readFile(path);
    const { bodyOffset } = await readSealedHeader(path);
    const chunks: Buffer[] = [];
    for (let pos = bodyOffset; pos < raw.length; pos += 4 + raw.readUInt32BE(pos)) chunks.push(raw.subarray(pos, pos + 4 + raw.readUInt32BE(pos)));
    return { head: raw.subarray(0, bodyOffset), chunks };
  }

  it('binds every chunk to its file, position and the final flag', async () => {
    const key = randomBytes(32);
    const data = randomBytes(SEALED_CHUNK_BYTES * 2 + 10);
    const a = join(dir, 'e.vmdump');
    const b = join(dir, 'f.vmdump');
    await seal(a, key, data);
    await seal(b, key, data);
    const pa = await parts(a);
    const pb = await parts(b);
    expect(pa.head.subarray(0, SEALED_MAGIC.length).toString()).toBe(SEALED_MAGIC);
    expect(pa.chunks.map((c) => c[4 + 4])).toEqual([2, 2, 2]);
    const tries: Record<string, Buffer> = {
      swapped: Buffer.concat([pa.head, pa.chunks[1]!, pa.chunks[0]!, pa.chunks[2]!]),
      fromOtherFile: Buffer.concat([pa.head, pb.chunks[0]!, pa.chunks[1]!, pa.chunks[2]!]),
      lastDropped: Buffer.concat([pa.head, pa.chunks[0]!, pa.chunks[1]!]),
      extraAfterFinal: Buffer.concat([pa.head, ...pa.chunks, pa.chunks[2]!]),
      headerEdited: Buffer.concat([Buffer.from(pa.head.toString('utf8').replace('host-1', 'host-2')), ...pa.chunks]),
      v1Magic: Buffer.concat([Buffer.from(pa.head.toString('utf8').replace('SEALED/2', 'SEALED/1')), ...pa.chunks]),
    };
    for (const [name, bytes] of Object.entries(tries)) {
      const path = join(dir, `${name}.vmdump`);
      await writeFile(path, bytes);
      await expect(unseal(path, key), name).rejects.toMatchObject({ code: 'HOST_COREDUMP_INVALID' });
    }
  });
});
