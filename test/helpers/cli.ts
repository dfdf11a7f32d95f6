import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The command line that runs `vmcrypt` from the TypeScript sources (through tsx), so a
 * test always exercises the code under test, never a stale build. Use as
 * `spawn(process.execPath, [...vmcryptArgv(), 'kms', 'serve', …])`.
 */
export function vmcryptArgv(): string[] {
  return ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'run.ts')];
}
