import type { QmpClient } from './qmp.js';
import { SecretFifos } from './secret-fifo.js';

/**
 * QMP `object-add` of a secret that QEMU reads from a FIFO (see secret-fifo.ts), like the
 * secrets given at start: the key never becomes a JS string (base64 `data` could not be
 * wiped) nor travels in the QMP stream. `pass` is zeroed.
 */
export async function addSecretObject(qmp: QmpClient, runDir: string, id: string, pass: Buffer): Promise<void> {
  let fifos: SecretFifos | undefined;
  try {
    fifos = await SecretFifos.create(runDir, 1);
    let answered = false;
    const adding = qmp.execute('object-add', { 'qom-type': 'secret', id, format: 'raw', file: fifos.paths[0] }).finally(() => {
      answered = true;
    });
    adding.catch(() => undefined); // awaited below
    // QEMU opens the FIFO while it handles object-add; once it has answered, stop offering
    const feeding = fifos.feed([pass], () => !answered);
    feeding.catch(() => undefined);
    await adding;
    await feeding;
  } finally {
    pass.fill(0);
    await fifos?.remove();
  }
}
