import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { repoRoot, vmcryptArgv } from '../../helpers/cli.js';
import { freePort } from '../../helpers/net.js';
import { startProcess, stopAll } from '../../helpers/process.js';

const run = promisify(execFile);
const PY = '/usr/bin/python3';

export interface KmsForPykmip {
  readonly port: number;
  /**
   * Runs a PyKMIP client script as `script HOST PORT CERT KEY CA ...args` and returns the JSON
   * document on the last line of its output.
   */
  python<T = ReturnType<typeof JSON.parse>>(script: string, ...args: string[]): Promise<T>;
}

/**
 * A real `vmcrypt kms serve` (fresh data dir, auto-unsealed, the init's client certificate) for
 * the PyKMIP interop tests of this file: started before its tests, stopped after them.
 */
export function useKmsForPykmip(prefix: string): () => KmsForPykmip {
  let dir = '';
  let served: KmsForPykmip | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    const data = join(dir, 'kms');
    const { stdout } = await run(process.execPath, [...vmcryptArgv(), 'kms', 'init', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--json'], { cwd: repoRoot });
    const init = JSON.parse(stdout) as { caCert: string; client: { cert: string; key: string } };
    const port = await freePort();
    await startProcess(process.execPath, [...vmcryptArgv(), 'kms', 'serve', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--listen', `127.0.0.1:${port}`], {
      ready: /kms listening on 127\.0\.0\.1:\d+/,
      cwd: repoRoot,
    });
    served = {
      port,
      async python(script, ...args) {
        const out = await run(PY, [script, '127.0.0.1', String(port), init.client.cert, init.client.key, init.caCert, ...args]);
        return JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}');
      },
    };
  });
  afterAll(async () => {
    await stopAll();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });
  return () => {
    if (served === undefined) throw new Error('the key server is not up (beforeAll failed)');
    return served;
  };
}
