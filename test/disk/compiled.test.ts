import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { repoRoot } from '../helpers/cli.js';
import { makeKey, makeRaw, qemuSame, tempDir } from './helpers.js';

// The worker file is resolved differently when compiled (dist/…/xts-worker.js, plain Node) and from
// source (.ts through tsx, which every other test uses). This compiles src/crypto + src/disk to
// JavaScript in a temp dir and runs the bulk engine with plain `node`, no tsx anywhere.
const { dir, cleanup } = tempDir('vmcrypt-disk-compiled-');
afterAll(cleanup);

function walk(d: string): string[] {
  if (!existsSync(d)) return [];
  return readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('compiled build', () => {
  it('runs the worker threads from .js files under plain node', async () => {
    const out = join(dir, 'dist');
    const files = [join(repoRoot, 'src', 'errors.ts'), ...['fs', 'proc', 'crypto', 'disk'].flatMap((d) => walk(join(repoRoot, 'src', d)))];
    for (const f of files) {
      const js = ts.transpileModule(readFileSync(f, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
        fileName: f,
      }).outputText;
      const dest = join(out, relative(join(repoRoot, 'src'), f)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, js);
    }
    writeFileSync(join(out, 'package.json'), '{"type":"module"}');
    const key = makeKey(dir, 'k');
    const raw = join(dir, 'raw.img');
    makeRaw(raw, 8);
    const luks = join(dir, 'c.luks');
    const script = `import { encryptDisk } from ${JSON.stringify(join(out, 'disk', 'index.js'))};
      const r = await encryptDisk({ src: ${JSON.stringify(raw)}, dst: ${JSON.stringify(luks)}, dek: Buffer.from(${JSON.stringify(key.dek.toString('hex'))}, 'hex') });
      console.log(JSON.stringify(r));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env: { PATH: process.env['PATH'] ?? '' } });
    expect(JSON.parse(stdout).bytes).toBe(8 << 20);
    expect(await qemuSame(luks, key, raw)).toBe(true);
  });
});
