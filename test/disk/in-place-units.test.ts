import { afterAll, describe, expect, it } from 'vitest';
import { open, writeFile, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { runShift } from '../../src/disk/inplace/shift.js';
import type { XtsPool } from '../../src/disk/bulk/pool.js';
import { Sidecar, sidecarPathFor, type Progress } from '../../src/disk/inplace/sidecar.js';
import { decodeMarker, encodeMarker } from '../../src/disk/inplace/marker.js';
import { markerOp } from '../../src/disk/inplace/marker-record.js';
import { parseHeader } from '../../src/disk/luks1/header.js';
import { fillKeyslot, newHeader } from '../../src/disk/luks1/keyslot.js';
import { DiskError } from '../../src/disk/errors.js';
import { tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('vmcrypt-disk-inplace-units-');
afterAll(cleanup);

/** Identity "cipher" answering after a random delay, so chunks complete out of order (a fake: unit test only). */
const shufflingPool = { run: async (_op: string, data: ArrayBuffer, length: number) => {
  await new Promise((r) => setTimeout(r, Math.random() * 3));
  return { id: 0, data, length, zero: false };
} } as unknown as XtsPool;

/** Records every write and every durable boundary, to check the slack rule on each write. */
function recording(fh: FileHandle, check: (writeAt: number, len: number) => void): FileHandle {
  return new Proxy(fh, {
    get(target, prop) {
      if (prop === 'write') return (buf: Buffer, off: number, len: number, pos: number) => {
        check(pos, len);
        return target.write(buf, off, len, pos);
      };
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('the in-place walk keeps its slack (every write lands where a rerun no longer needs the source)', () => {
  for (const [name, srcBase, dstBase] of [['up by 2 MiB (encrypt, rekey 4096→8192)', 0, 2 << 20], ['down by 2 MiB (decrypt, rekey 8192→4096)', 2 << 20, 0], ['up by 2068480 (qemu-img 4040)', 4096, 4096 + 2068480]] as const) {
    it(name, async () => {
      const size = 13 * (1 << 20) + 7 * 512;
      const path = join(dir, `walk-${srcBase}-${dstBase}.img`);
      const data = randomBytes(size);
      await writeFile(path, Buffer.concat([Buffer.alloc(srcBase), data, Buffer.alloc(Math.max(0, dstBase - srcBase))]));
      const back = dstBase > srcBase;
      const shift = Math.abs(dstBase - srcBase);
      let durable = back ? size : 0;
      let writes = 0;
      const fh = await open(path, 'r+');
      try {
        await runShift({
          fh: recording(fh, (pos, len) => {
            writes++;
            const o = pos - dstBase; // payload offset of the chunk
            // A rerun restarts at `durable` and re-reads the source on the not-done side of it.
            if (back) expect(o + shift).toBeGreaterThanOrEqual(durable);
            else expect(o + len - shift).toBeLessThanOrEqual(durable);
          }),
          pool: shufflingPool, op: 'encrypt', srcBase, dstBase, lo: 0, hi: size, from: back ? size : 0, sourceHoles: false,
          persist: async (b) => {
            expect(back ? b < durable : b > durable).toBe(true); // boundaries only move forward
            durable = b;
          },
        });
      } finally {
        await fh.close();
      }
      expect(durable).toBe(back ? 0 : size);
      expect(writes).toBeGreaterThan(20);
      const out = await readFile(path);
      expect(out.subarray(dstBase, dstBase + size).equals(data)).toBe(true);
    });
  }
});

describe('sidecar: two checksummed slots', () => {
  const state: Progress = { opId: 'a'.repeat(32), op: 'encrypt', abort: false, phase: 'data', origSize: 1 << 20, size: 1 << 20, from: 0, to: 2 << 20, staging: 3 << 20, lo: 4096, hi: 1 << 20, progress: 1 << 20 };

  it('a torn latest record leaves the previous one; both damaged is DISK_IN_PLACE_STATE', async () => {
    const disk = join(dir, 'sc.img');
    const sc = await Sidecar.create(disk, state);
    await sc.update({ progress: 512 << 10 });
    await sc.update({ progress: 256 << 10 });
    await sc.close();
    expect((await Sidecar.open(disk))!.state.progress).toBe(256 << 10);
    const raw = await readFile(sidecarPathFor(disk));
    const seq3 = 3 % 2;
    raw[seq3 * 512 + 40] = raw[seq3 * 512 + 40]! ^ 0xff; // tear the newest slot
    await writeFile(sidecarPathFor(disk), raw);
    const older = await Sidecar.open(disk);
    expect(older!.state.progress).toBe(512 << 10);
    await older!.close();
    raw[(1 - seq3) * 512 + 40] = raw[(1 - seq3) * 512 + 40]! ^ 0xff;
    await writeFile(sidecarPathFor(disk), raw);
    await expect(Sidecar.open(disk)).rejects.toMatchObject({ code: 'DISK_IN_PLACE_STATE' });
  });

  it('no key material: the record holds positions and names only', async () => {
    const disk = join(dir, 'sc2.img');
    const sc = await Sidecar.create(disk, state);
    await sc.close();
    const slot = (await readFile(sidecarPathFor(disk))).subarray(512); // the first record goes to slot 1
    expect(Object.keys(JSON.parse(slot.subarray(4, 4 + slot.readUInt32BE(0)).toString('utf8')) as object).sort()).toEqual(
      ['abort', 'from', 'hi', 'lo', 'op', 'opId', 'origSize', 'phase', 'progress', 'seq', 'size', 'staging', 'to', 'v'],
    );
  });
});

describe('in-progress block', () => {
  it('round-trips, refuses a flipped byte, and every opener reports the op to rerun', () => {
    const mk = randomBytes(64);
    const h = newHeader(mk);
    fillKeyslot(h, 0, mk, Buffer.from('passphrase'), 1000);
    mk.fill(0);
    const block = encodeMarker({ op: 'rekey', opId: 'b'.repeat(32), size: 1 << 30, from: 2 << 20, to: 4 << 20, staging: 0, headerArea: 0, a: h, b: h });
    const m = decodeMarker(block);
    expect(m).toMatchObject({ op: 'rekey', size: 1 << 30, to: 4 << 20 });
    expect(m.b?.uuid).toBe(h.uuid);
    expect(() => parseHeader(block.subarray(0, 592), 1 << 30)).toThrow(/vmcrypt disk rekey FILE .*--deep --in-place/);
    for (const at of [30, 1100, 2100]) {
      const bad = Buffer.from(block);
      bad[at]! ^= 1;
      expect(() => decodeMarker(bad)).toThrow(DiskError);
    }
    expect(markerOp(randomBytes(512))).toBeUndefined();
  });
});
