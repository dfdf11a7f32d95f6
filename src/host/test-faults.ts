import { HostError } from './errors.js';

/**
 * TEST-ONLY fault injection, honoured only when the agent runs with its test flag
 * (`--allow-crash`); a production agent ignores the variables.
 * - `VMCRYPT_TEST_FAULT=POINT:N[:kill]`: once, at the N-th passage of POINT the operation fails
 *   with HOST_TEST_FAULT, or with `:kill` the agent SIGKILLs itself (a crash at a known step).
 *   Points: `rekey-after-layer` (after N layers were rewrapped and committed),
 *   `clone-after-disk` (after N disks of a clone/restore were written), `in-place-chunk` (after N
 *   progress steps of an in-place conversion), `in-place-last-disk-chunk` (the same, counted in the
 *   VM's last disk only), `in-place-disk` (after N disks were converted in place).
 * - `VMCRYPT_TEST_FREE_BYTES=DATASTORE:BYTES[,…]`: the free space a datastore reports.
 */
export interface TestFaults {
  /** Called at each passage of `point`; `n` counts from 1 within one operation. */
  reached(point: string, n: number): void;
  /** The injected free-byte figure of a datastore, if any. */
  freeBytes(datastore: string): number | undefined;
  setFreeBytes(datastore: string, bytes: number | undefined): void;
}

const FAULT_RE = /^([a-z-]{1,40}):(\d{1,4})(:kill)?$/;

export function noFaults(): TestFaults {
  return { reached: () => undefined, freeBytes: () => undefined, setFreeBytes: () => undefined };
}

export function testFaultsFrom(env: NodeJS.ProcessEnv, enabled: boolean): TestFaults {
  if (!enabled) return noFaults();
  let m = FAULT_RE.exec(env['VMCRYPT_TEST_FAULT'] ?? '');
  const free = new Map<string, number>();
  for (const item of (env['VMCRYPT_TEST_FREE_BYTES'] ?? '').split(',')) {
    const f = /^([A-Za-z0-9._-]{1,64}):(\d{1,18})$/.exec(item);
    if (f?.[1] !== undefined) free.set(f[1], Number(f[2]));
  }
  return {
    reached(point, n) {
      if (m === null || m[1] !== point || Number(m[2]) !== n) return;
      const kill = m[3] !== undefined;
      m = null; // one-shot: the rerun a test makes next must get through
      if (kill) process.kill(process.pid, 'SIGKILL');
      throw new HostError('HOST_TEST_FAULT', `injected test fault at ${point}:${n}`);
    },
    freeBytes: (ds) => free.get(ds),
    setFreeBytes(ds, bytes) {
      if (bytes === undefined) free.delete(ds);
      else free.set(ds, bytes);
    },
  };
}
