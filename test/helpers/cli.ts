import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtimeMs(p) : statSync(p).mtimeMs);
  }
  return newest;
}

let chosen: string[] | undefined;

/**
 * The command line that runs `vmcrypt` for a test: the compiled build (`npm test` builds it
 * right before the tests) when it is newer than every source file, else the TypeScript
 * sources through tsx — so a test always exercises the code under test, never a stale build.
 * The compiled CLI starts in about half the time, and the suite starts hundreds of them.
 * Use as `spawn(process.execPath, [...vmcryptArgv(), 'kms', 'serve', …])`.
 */
export function vmcryptArgv(): string[] {
  if (chosen === undefined) {
    const compiled = join(repoRoot, 'dist', 'cli', 'run.js');
    const fresh = existsSync(compiled) && statSync(compiled).mtimeMs >= newestMtimeMs(join(repoRoot, 'src'));
    chosen = fresh && process.env['VMCRYPT_TEST_FROM_SOURCES'] !== '1' ? [compiled] : ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'run.ts')];
  }
  return [...chosen];
}
