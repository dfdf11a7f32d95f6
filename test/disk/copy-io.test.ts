import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runBulk, BULK_CHUNK } from '../../src/disk/bulk/engine.js';
import { XtsPool } from '../../src/disk/bulk/pool.js';
import { copyMappedAvailable } from '../../src/disk/bulk/copy-map.js';
import { XtsCipher } from '../../src/crypto/xts.js';
import { nativeXts } from '../../src/crypto/xts-native.js';
import { tempDir } from './helpers.js';

// The copy modes' two I/O paths (bulk/engine.ts): worker conversions from a read-only source
// mapping straight into the new file's mapping (native/xts-copy.c), and pread → worker → pwrite.
// Same bytes, same holes, the same ENOSPC on a full filesystem, EIO (not a dead process) on a
// fault under a mapping.
// Both paths are chosen per run here (io: 'auto' | 'pread'), whatever the environment forces.
delete process.env['VMCRYPT_COPY_IO'];
const { dir, cleanup } = tempDir('vmcrypt-disk-copy-io-');
const mnt = join(dir, 'small');
let mounted = false;
try {
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', mnt], { stdio: 'pipe' });
  mounted = true;
} catch {
  // not root: the full-disk case is skipped
}
afterAll(() => {
  if (mounted) execFileSync('umount', [mnt]);
  cleanup();
});

const MiB = 1 << 20;
const paths = ['auto', 'pread'] as const;
const ops = ['encrypt', 'decrypt', 'reencrypt'] as const;

describe('copy-mode I/O paths agree', () => {
  it('the mapped path is available here (the addon is built)', () => {
    expect(copyMappedAvailable()).toBe(true);
  });

  for (const op of ops) {
    it(`${op}: mapped and pread give the same bytes and the same holes`, async () => {
      const size = 6 * MiB + 3 * 512;
      const srcKey = randomBytes(64);
      const dstKey = randomBytes(64);
      const plain = randomBytes(size);
      plain.fill(0, BULK_CHUNK, 2 * BULK_CHUNK); // one whole chunk of zeros
      const source = Buffer.from(plain);
      if (op !== 'encrypt') {
        new XtsCipher(srcKey).encrypt(source, 0);
        source.fill(0, BULK_CHUNK, 2 * BULK_CHUNK); // never written in a LUKS payload
      }
      const srcBase = op === 'encrypt' ? 0 : 4096;
      const dstBase = op === 'decrypt' ? 0 : 2 * MiB;
      const srcPath = join(dir, `${op}.src`);
      await writeFile(srcPath, Buffer.concat([Buffer.alloc(srcBase, 7), source]));
      const expected = Buffer.from(plain);
      if (op !== 'decrypt') new XtsCipher(dstKey).encrypt(expected, 0);
      if (op !== 'encrypt') expected.fill(0, BULK_CHUNK, 2 * BULK_CHUNK); // left a hole, reads as zeros
      const outs: { bytes: Buffer; holeBytes: number; blocks: number }[] = [];
      const pool = new XtsPool({ ...(op === 'encrypt' ? {} : { srcKey }), ...(op === 'decrypt' ? {} : { dstKey }) }, 2);
      try {
        for (const io of paths) {
          const dstPath = join(dir, `${op}.${io}`);
          const src = await open(srcPath, 'r');
          const dst = await open(dstPath, 'wx'); // write-only, as writeAtomically creates it
          try {
            await dst.truncate(dstBase + size);
            const r = await runBulk({ pool, op, phase: 'encrypt', src, srcBase, dst, dstBase, length: size, holesInSource: op !== 'encrypt', io });
            await dst.sync();
            outs.push({ bytes: await readFile(dstPath), holeBytes: r.holeBytes, blocks: (await stat(dstPath)).blocks });
          } finally {
            await src.close();
            await dst.close();
          }
        }
      } finally {
        await pool.close();
      }
      const [mapped, pread] = outs;
      expect(mapped!.bytes.subarray(dstBase).equals(expected)).toBe(true);
      expect(mapped!.bytes.equals(pread!.bytes)).toBe(true);
      expect(mapped!.holeBytes).toBe(pread!.holeBytes);
      expect(mapped!.holeBytes).toBe(op === 'encrypt' ? 0 : BULK_CHUNK);
      expect(mapped!.blocks).toBe(pread!.blocks); // the hole is a hole on both paths
    });
  }

  for (const io of paths) {
    it.skipIf(!mounted)(`a full filesystem fails with ENOSPC (${io} path), the source untouched`, async () => {
      const srcPath = join(dir, `full-${io}.src`);
      const data = randomBytes(8 * MiB);
      await writeFile(srcPath, data);
      const pool = new XtsPool({ dstKey: randomBytes(64) }, 2);
      const src = await open(srcPath, 'r');
      const dst = await open(join(mnt, `full-${io}`), 'wx');
      let code: unknown;
      let syscall: unknown;
      try {
        await dst.truncate(8 * MiB); // sparse: the 4 MiB tmpfs accepts the size, not the data
        await runBulk({ pool, op: 'encrypt', phase: 'encrypt', src, srcBase: 0, dst, dstBase: 0, length: 8 * MiB, holesInSource: false, io });
      } catch (err) {
        ({ code, syscall } = err as { code?: unknown; syscall?: unknown });
      } finally {
        await src.close();
        await dst.close();
        await pool.close();
      }
      expect(code).toBe('ENOSPC');
      // Proof of the path taken: the mapped path's fallocate refused, or pwrite did.
      expect(syscall).toBe(io === 'auto' ? 'fallocate' : 'write');
      expect((await readFile(srcPath)).equals(data)).toBe(true);
    });
  }
});

describe('native convertCopy (native/xts-copy.c)', () => {
  it('checks its arguments and turns a fault under a mapping into EIO', async () => {
    type H = { readonly __brand: 'h' };
    const a = nativeXts().addon as unknown as {
      create(key: Buffer, enc: boolean): H;
      destroy(h: H): void;
      mapFile(fd: number, off: number, len: number, readOnly?: boolean): H | undefined;
      unmapFile(m: H): void;
      convertCopy(s: H, so: number, d: H, dof: number, len: number, dec: H | null, enc: H | null, first: number, flags: number, fd: number): boolean;
    };
    const srcPath = join(dir, 'bus.src');
    const dstPath = join(dir, 'bus.dst');
    await writeFile(srcPath, randomBytes(MiB));
    const src = await open(srcPath, 'r');
    const dst = await open(dstPath, 'w+');
    const enc = a.create(randomBytes(64), true);
    try {
      await dst.truncate(MiB);
      const ro = a.mapFile(src.fd, 0, MiB, true)!;
      const rw = a.mapFile(dst.fd, 0, MiB, false)!;
      expect(a.mapFile(src.fd, 0, MiB, false)).toBeUndefined(); // writable needs O_RDWR
      expect(() => a.convertCopy(ro, 0, ro, 0, 512, null, enc, 0, 0, src.fd)).toThrow(/bad map/); // read-only target
      expect(() => a.convertCopy(ro, 0, rw, MiB - 512, 1024, null, enc, 0, 0, dst.fd)).toThrow(/outside/);
      expect(() => a.convertCopy(ro, 0, rw, 0, 500, null, enc, 0, 0, dst.fd)).toThrow(/outside/);
      expect(a.convertCopy(ro, 0, rw, 0, 4096, null, enc, 0, 4 | 8, dst.fd)).toBe(true);
      // The source cut short behind the copy's back (on a real disk: a read error): EIO, not a dead process.
      execFileSync('truncate', ['-s', '0', srcPath]);
      let err: unknown;
      try {
        a.convertCopy(ro, 8192, rw, 8192, 4096, null, enc, 0, 0, dst.fd);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'EIO' });
      a.unmapFile(ro);
      a.unmapFile(rw);
    } finally {
      a.destroy(enc);
      await src.close();
      await dst.close();
    }
  });
});
