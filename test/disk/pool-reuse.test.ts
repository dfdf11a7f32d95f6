import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runBulk } from '../../src/disk/bulk/engine.js';
import { XtsPool } from '../../src/disk/bulk/pool.js';
import { decryptDisk, encryptDisk, rekeyDisk } from '../../src/disk/index.js';
import { XtsCipher } from '../../src/crypto/xts.js';
import { tempDir } from './helpers.js';

// The copy modes' workers are kept between operations of one process (idle, keyless, unref'd);
// each operation arms them with its keys and disarms them at its end. A failed operation's
// workers are closed; concurrent operations never share workers.
delete process.env['VMCRYPT_COPY_IO'];
const { dir, cleanup } = tempDir('vmcrypt-disk-pool-reuse-');
const MiB = 1 << 20;
afterAll(async () => {
  await XtsPool.borrow({}, 2).close();
  cleanup();
});

const ops = ['encrypt', 'decrypt', 'reencrypt'] as const;

/** One copy through `pool` with fresh keys; checks the bytes against XtsCipher (fresh state). */
async function copyThrough(pool: XtsPool, op: (typeof ops)[number], io: 'auto' | 'pread', keys: { srcKey: Buffer; dstKey: Buffer }, name: string): Promise<void> {
  const size = 5 * MiB + 512;
  const plain = randomBytes(size);
  const source = Buffer.from(plain);
  if (op !== 'encrypt') new XtsCipher(keys.srcKey).encrypt(source, 0);
  const expected = Buffer.from(plain);
  if (op !== 'decrypt') new XtsCipher(keys.dstKey).encrypt(expected, 0);
  const srcPath = join(dir, `${name}.src`);
  const dstPath = join(dir, `${name}.dst`);
  await writeFile(srcPath, source);
  await writeFile(dstPath, Buffer.alloc(0));
  const src = await open(srcPath, 'r');
  const dst = await open(dstPath, 'r+');
  try {
    await dst.truncate(size);
    await runBulk({ pool, op, phase: 'encrypt', src, srcBase: 0, dst, dstBase: 0, length: size, holesInSource: false, io });
  } finally {
    await src.close();
    await dst.close();
  }
  expect((await readFile(dstPath)).equals(expected)).toBe(true);
}

describe('copy-mode workers are reused across operations of one process', () => {
  it('encrypt, decrypt, reencrypt through one kept set, mapped and pread: same bytes as a fresh cipher; idle workers hold no key', async () => {
    const first = XtsPool.borrow({}, 2);
    await first.release();
    let n = 0;
    for (const io of ['auto', 'pread'] as const) {
      for (const op of ops) {
        const keys = { srcKey: randomBytes(64), dstKey: randomBytes(64) };
        const pool = XtsPool.borrow(keys, 2);
        expect(pool).toBe(first);
        expect((await pool.holds()).every((h) => h.holdsKey)).toBe(true);
        await copyThrough(pool, op, io, keys, `${op}-${io}-${n++}`);
        await pool.release();
        expect(await pool.holds()).toEqual([
          { holdsKey: false, mapped: false },
          { holdsKey: false, mapped: false },
        ]);
      }
    }
  });

  it('while an operation runs its workers hold the key (and the mapping); release() wipes both', async () => {
    const keys = { srcKey: randomBytes(64), dstKey: randomBytes(64) };
    const pool = XtsPool.borrow(keys, 2);
    await copyThrough(pool, 'encrypt', 'auto', keys, 'armed');
    const during = await pool.holds();
    expect(during.every((h) => h.holdsKey)).toBe(true);
    expect(during.some((h) => h.mapped)).toBe(true);
    await pool.release();
    expect((await pool.holds()).some((h) => h.holdsKey || h.mapped)).toBe(false);
  });

  it('a failed operation\'s workers are closed, not kept', async () => {
    const pool = XtsPool.borrow({ srcKey: randomBytes(64) }, 2); // no destination key: encrypt fails
    await expect(pool.run('encrypt', new ArrayBuffer(512), 512, 0)).rejects.toMatchObject({ code: 'DISK_WORKER_FAILED' });
    await pool.release();
    const next = XtsPool.borrow({}, 2);
    expect(next).not.toBe(pool);
    await next.release();
  });

  it('concurrent operations each get their own workers; a set of another size is not reused', async () => {
    const a = XtsPool.borrow({}, 2);
    const b = XtsPool.borrow({}, 2);
    expect(b).not.toBe(a);
    await a.release();
    await b.release(); // closes a, keeps b
    const c = XtsPool.borrow({}, 3);
    expect(c).not.toBe(b);
    await c.close();
    const d = XtsPool.borrow({}, 2);
    expect(d).not.toBe(b);
    await d.release();
  });

  it('public API: encrypt → deep rekey → decrypt in one process gives back the original', async () => {
    const raw = join(dir, 'api.raw');
    const data = randomBytes(4 * MiB);
    await writeFile(raw, data);
    const dek1 = randomBytes(32);
    const dek2 = randomBytes(32);
    const luks = join(dir, 'api.luks');
    await encryptDisk({ src: raw, dst: luks, dek: dek1, iterations: 1000 });
    await rekeyDisk({ path: luks, oldDek: dek1, newDek: dek2, mode: 'deep', iterations: 1000 });
    await decryptDisk({ src: luks, dst: join(dir, 'api.out'), dek: dek2 });
    expect((await readFile(join(dir, 'api.out'))).equals(data)).toBe(true);
    // The last operation's set was kept; borrowed without keys, none of its workers holds one.
    const kept = XtsPool.borrow({});
    expect((await kept.holds()).some((h) => h.holdsKey || h.mapped)).toBe(false);
    await kept.release();
  });

  it('idle workers do not keep the process alive', () => {
    const pool = pathToFileURL(resolve('src/disk/bulk/pool.ts')).href;
    const script = `import { XtsPool } from ${JSON.stringify(pool)};
const p = XtsPool.borrow({ dstKey: Buffer.alloc(64, 1).fill(2, 32) }, 2);
await p.run('encrypt', new ArrayBuffer(512), 512, 0);
await p.release();
console.log('released');`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: resolve('.'), timeout: 30_000, encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('released');
    expect(r.status).toBe(0);
  });
});
