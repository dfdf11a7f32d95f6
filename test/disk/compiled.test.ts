import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { compileDiskEngine, runPlainNode } from './compiled-engine.js';
import { makeKey, makeRaw, qemuSame, tempDir } from './helpers.js';

// The worker file is resolved differently when compiled (dist/…/xts-worker.js, plain Node) and from
// source (.ts through tsx, which every other test uses). This compiles src/crypto + src/disk to
// JavaScript in a temp dir and runs the bulk engine with plain `node`, no tsx anywhere.
const { dir, cleanup } = tempDir('vmcrypt-disk-compiled-');
afterAll(cleanup);

describe('compiled build', () => {
  it('runs the worker threads from .js files under plain node', async () => {
    const out = join(dir, 'dist');
    compileDiskEngine(out);
    const key = makeKey(dir, 'k');
    const raw = join(dir, 'raw.img');
    makeRaw(raw, 8);
    const luks = join(dir, 'c.luks');
    const script = `import { encryptDisk } from ${JSON.stringify(join(out, 'disk', 'index.js'))};
      const r = await encryptDisk({ src: ${JSON.stringify(raw)}, dst: ${JSON.stringify(luks)}, dek: Buffer.from(${JSON.stringify(key.dek.toString('hex'))}, 'hex') });
      console.log(JSON.stringify(r));`;
    const stdout = await runPlainNode(script, dir);
    expect(JSON.parse(stdout).bytes).toBe(8 << 20);
    expect(await qemuSame(luks, key, raw)).toBe(true);
  });
});
