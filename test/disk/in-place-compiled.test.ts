import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileDiskEngine, runPlainNode } from './compiled-engine.js';
import { makeKey, makeRaw, sha256File, tempDir } from './helpers.js';

// The in-place walk's worker file is resolved like the copy engine's (test/disk/compiled.test.ts):
// dist/…/walk-worker.js under plain Node, bundled .ts under tsx. This runs an in-place encrypt and
// decrypt from JavaScript compiled into a temp dir, no tsx anywhere.
const { dir, cleanup } = tempDir('vmcrypt-disk-inplace-compiled-');
afterAll(cleanup);

describe('compiled build, in place', () => {
  it('runs the walk workers from .js files under plain node: encrypt then decrypt gives the original back', async () => {
    const out = join(dir, 'dist');
    compileDiskEngine(out);
    const key = makeKey(dir, 'k');
    const raw = join(dir, 'raw.img');
    makeRaw(raw, 8);
    const disk = join(dir, 'disk.img');
    copyFileSync(raw, disk);
    const index = JSON.stringify(join(out, 'disk', 'index.js'));
    const dek = `Buffer.from(${JSON.stringify(key.dek.toString('hex'))}, 'hex')`;
    const script = `import { encryptDiskInPlace, decryptDiskInPlace, diskInfo } from ${index};
      const e = await encryptDiskInPlace({ path: ${JSON.stringify(disk)}, dek: ${dek} });
      const info = await diskInfo(${JSON.stringify(disk)});
      const d = await decryptDiskInPlace({ path: ${JSON.stringify(disk)}, dek: ${dek} });
      console.log(JSON.stringify({ e: e.bytes, format: info.format, d: d.bytes }));`;
    const stdout = await runPlainNode(script, dir);
    expect(JSON.parse(stdout)).toMatchObject({ format: 'luks1', e: (8 << 20) - 4096 }) // the walk: all but the 4 KiB front, staged apart;
    expect(sha256File(disk)).toBe(sha256File(raw));
  });
});
