import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { runShift } from '../../src/disk/inplace/shift.js';
import { WalkWorkers } from '../../src/disk/inplace/walk-pool.js';
import { XtsCipher } from '../../src/crypto/xts.js';
import { tempDir } from './helpers.js';

// The walk workers' two I/O paths — a shared mapping of the file converted from source to
// destination in one native call (native/xts-map.c), and pread/convert/pwrite — give the same
// bytes for every operation, holes included (an all-zero source window stays zeros).
const { dir, cleanup } = tempDir('vmcrypt-disk-walk-io-');
const MiB = 1 << 20;
let workers: WalkWorkers;
beforeAll(() => {
  workers = new WalkWorkers(2);
});
afterAll(async () => {
  await workers.close();
  cleanup();
});

const ops = ['encrypt', 'decrypt', 'reencrypt'] as const;

describe('walk I/O paths agree', () => {
  for (const op of ops) {
    for (const io of [undefined, 'pread'] as const) {
      it(`${op}, ${io ?? 'mapped'} path, down by 2 MiB with a hole`, async () => {
        const size = 5 * MiB + 3 * 512;
        const srcKey = randomBytes(64);
        const dstKey = randomBytes(64);
        const plain = randomBytes(size);
        plain.fill(0, MiB, 2 * MiB); // all-zero windows: a never-written area of a LUKS disk
        const source = Buffer.from(plain);
        if (op !== 'encrypt') {
          new XtsCipher(srcKey).encrypt(source, 0);
          source.fill(0, MiB, 2 * MiB);
        }
        const expected = Buffer.from(plain);
        if (op !== 'decrypt') new XtsCipher(dstKey).encrypt(expected, 0);
        if (op !== 'encrypt') expected.fill(0, MiB, 2 * MiB); // holes stay holes
        const path = join(dir, `${op}-${io ?? 'mapped'}.img`);
        await writeFile(path, Buffer.concat([Buffer.alloc(2 * MiB), source]));
        const fh = await open(path, 'r+');
        try {
          await runShift({
            op, srcBase: 2 * MiB, dstBase: 0, lo: 0, hi: size, fh, workers, from: 0, sourceHoles: op !== 'encrypt', persist: () => undefined,
            keys: { ...(op === 'encrypt' ? {} : { srcKey }), ...(op === 'decrypt' ? {} : { dstKey }) }, ...(io === undefined ? {} : { io }),
          });
        } finally {
          await fh.close();
        }
        expect((await readFile(path)).subarray(0, size).equals(expected)).toBe(true);
      });
    }
  }
});

type Handle = { readonly __brand: 'Handle' };
interface MapAddon {
  create(key: Buffer, encrypt: boolean): Handle;
  mapFile(fd: number, offset: number, length: number): Handle | undefined;
  unmapFile(m: Handle): void;
  convertMapped(m: Handle, src: number, dst: number, len: number, dec: Handle | null, enc: Handle | null, first: number, holes: boolean): boolean;
}
const addonPath = join(import.meta.dirname, '..', '..', 'build', 'Release', 'vmcrypt_xts.node');
const addon = existsSync(addonPath) ? (createRequire(import.meta.url)(addonPath) as MapAddon) : undefined;

describe.skipIf(addon === undefined)('mapped I/O guards (native/xts-map.c)', () => {
  it('maps only inside the file, refuses windows outside the map or overlapping, and handles of the wrong kind', async () => {
    const path = join(dir, 'guards.img');
    await writeFile(path, randomBytes(MiB));
    const fh = await open(path, 'r+');
    try {
      const a = addon!;
      expect(a.mapFile(fh.fd, 512, MiB)).toBeUndefined(); // past the end of the file
      const m = a.mapFile(fh.fd, 512, MiB - 512)!;
      const enc = a.create(randomBytes(64), true);
      expect(() => a.convertMapped(m, 0, 4096, 512, null, enc, 0, false)).toThrow(/outside/);
      expect(() => a.convertMapped(m, 512, MiB - 512, 1024, null, enc, 0, false)).toThrow(/outside/);
      expect(() => a.convertMapped(m, 512, 1024, 1024, null, enc, 0, false)).toThrow(/overlapping/);
      expect(() => a.convertMapped(m, 512, 4096, 500, null, enc, 0, false)).toThrow(/outside/);
      expect(() => a.convertMapped(m, 512, 4096, 512, m, enc, 0, false)).toThrow(/ciphers/);
      expect(() => a.convertMapped(enc, 512, 4096, 512, null, enc, 0, false)).toThrow(/convertMapped/);
      expect(a.convertMapped(m, 512, 4096, 512, null, enc, 0, false)).toBe(true);
      // The walk's workers share one mapping of the same range: releasing one handle leaves the other working.
      const twin = a.mapFile(fh.fd, 512, MiB - 512)!;
      a.unmapFile(m);
      expect(() => a.convertMapped(m, 512, 4096, 512, null, enc, 0, false)).toThrow(/unmapped/);
      expect(a.convertMapped(twin, 512, 8192, 512, null, enc, 0, false)).toBe(true);
      a.unmapFile(twin);
      // A fault under the mapping (here: the file cut short behind the walk's back; on a real disk,
      // a read error) is an EIO error of the call, as pread would report it, not a dead process.
      const m2 = a.mapFile(fh.fd, 0, MiB)!;
      await fh.truncate(0);
      let err: unknown;
      try {
        a.convertMapped(m2, 8192, 0, 4096, null, enc, 0, false);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'EIO' });
      a.unmapFile(m2);
    } finally {
      await fh.close();
    }
  });
});
