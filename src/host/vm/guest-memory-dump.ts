import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { constants, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { QmpClient } from '../qemu/qmp.js';
import { SealedStreamWriter } from '../keys/sealed-stream.js';
import type { OpenVm } from './vm-open.js';
import { openPrivateFile } from '../../fs/private-files.js';

const run = promisify(execFile);
/** A dump streams all guest RAM: allow it far longer than an ordinary QMP command. */
const DUMP_TIMEOUT_MS = 60 * 60_000;

/**
 * Guest memory dump (QMP dump-guest-memory, ELF, no paging). For an encrypted VM, QEMU
 * writes into a FIFO that the agent reads and seals chunk by chunk under the VM DEK
 * (`NAME-<time>.vmem.sealed`, a sealed stream of kind "guest-memory"): the clear dump never
 * touches the disk. A plain VM gets a plain `NAME-<time>.vmem`.
 */
export async function dumpGuestMemory(qmp: QmpClient, runDir: string, vm: OpenVm): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  if (vm.vmDek === undefined || vm.doc.keySafe === undefined) {
    const out = join(vm.dir, `${vm.doc.name}-${stamp}.vmem`);
    await qmp.execute('dump-guest-memory', { paging: false, protocol: `file:${out}` }, DUMP_TIMEOUT_MS);
    return out;
  }
  const out = join(vm.dir, `${vm.doc.name}-${stamp}.vmem.sealed`);
  const fifo = join(runDir, `${vm.uuid.slice(0, 8)}.dump.fifo`);
  await rm(fifo, { force: true });
  await run('mkfifo', ['-m', '0600', fifo]);
  const fh = await openPrivateFile(out, 'wx');
  const writer = await SealedStreamWriter.start(fh, vm.vmDek, {
    kind: 'guest-memory',
    keyId: vm.doc.keySafe.keyId,
    sealedWith: 'vm-dek',
    vmUuid: vm.uuid,
    createdAt: new Date().toISOString(),
  });
  try {
    const reading = (async () => {
      // opening a FIFO for reading waits (in libuv's thread pool) until QEMU opens it to write
      for await (const chunk of createReadStream(fifo, { highWaterMark: 1 << 20 })) {
        await writer.write(chunk as Buffer);
        (chunk as Buffer).fill(0);
      }
    })();
    reading.catch(() => undefined); // awaited below; never an unhandled rejection
    await qmp.execute('dump-guest-memory', { paging: false, protocol: `file:${fifo}` }, DUMP_TIMEOUT_MS);
    await reading;
    await writer.finish();
    await fh.sync();
    return out;
  } catch (err) {
    // if QEMU never opened the FIFO our reader still waits in open(): open and close the
    // write side so it sees EOF and the thread is freed
    await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).then((w) => w.close(), () => undefined);
    writer.abort();
    await fh.close().catch(() => undefined);
    await rm(out, { force: true });
    throw err;
  } finally {
    await fh.close().catch(() => undefined);
    await rm(fifo, { force: true });
  }
}
