import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { repoRoot } from '../helpers/cli.js';

function sources(d: string): string[] {
  if (!existsSync(d)) return [];
  return readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/**
 * Compiles src/errors.ts and the folders the disk engine needs (fs, proc, crypto, disk) to
 * JavaScript under `out` (an ES module package), so a test can run the engine with plain `node`:
 * the worker files are resolved differently there than from source through tsx.
 */
export function compileDiskEngine(out: string): void {
  const files = [join(repoRoot, 'src', 'errors.ts'), ...['fs', 'proc', 'crypto', 'disk'].flatMap((d) => sources(join(repoRoot, 'src', d)))];
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
}

/** Runs an ES module `script` with plain node (no tsx, no loader) in `cwd`; resolves to its stdout. */
export async function runPlainNode(script: string, cwd: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd, env: { PATH: process.env['PATH'] ?? '' } });
  return stdout;
}
