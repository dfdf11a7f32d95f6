import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { exitsEventually, tempDir } from '../harness.js';

// A QEMU that starts but never greets on QMP (hung main loop) cannot be controlled: power-on
// must fail in bounded time and the process must not be left running with its disks open.
// A stand-in QEMU (python) listens on the QMP socket and never says a word.
const FAKE_QEMU = `#!/usr/bin/env python3
import os, socket, sys, time
args = sys.argv[1:]
path = args[args.index('-qmp') + 1][len('unix:'):].split(',')[0]
open(os.environ['FAKE_QEMU_PIDFILE'], 'w').write(str(os.getpid()))
open(os.environ['FAKE_QEMU_PIDFILE'] + '.limits', 'w').write(open('/proc/self/limits').read())
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(4)
conns = []
while True:
    c, _ = s.accept()
    conns.append(c)
`;

describe('startQemu: a QEMU that never answers QMP', () => {
  let dir: { path: string; remove(): Promise<void> };

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-qemu-process-');
    const fake = join(dir.path, 'fake-qemu');
    await writeFile(fake, FAKE_QEMU);
    await chmod(fake, 0o755);
    process.env['VMCRYPT_QEMU'] = fake;
    process.env['FAKE_QEMU_PIDFILE'] = join(dir.path, 'fake.pid');
  });
  afterAll(async () => {
    await dir.remove();
  });

  it('fails with HOST_QEMU_FAILED and kills it', async () => {
    const { startQemu } = await import('../../../src/host/qemu/qemu-process.js');
    const machine = { uuid: '11111111-2222-3333-4444-555555555555', name: 'fake', memoryMiB: 16, disks: [], qmpSocket: join(dir.path, 'f.qmp') };
    const err = await startQemu(machine, dir.path, () => Buffer.alloc(64), () => undefined, 1000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'HOST_QEMU_FAILED' });
    expect((err as Error).message).toContain('did not answer on its QMP socket');
    const pid = Number(await readFile(join(dir.path, 'fake.pid'), 'utf8'));
    expect(pid).toBeGreaterThan(1);
    expect(await exitsEventually(pid)).toBe(true);
    // launched through prlimit: a crashing QEMU could not leave a core file with keys in it
    expect(await readFile(join(dir.path, 'fake.pid.limits'), 'utf8')).toMatch(/^Max core file size\s+0\s+0\s/m);
  });

  it('a QEMU that exits while starting fails with its exit status and last output lines', async () => {
    const quitter = join(dir.path, 'quitting-qemu');
    await writeFile(quitter, '#!/bin/sh\necho "qemu-system-x86_64: -machine foo: unsupported machine type" >&2\nexit 1\n');
    await chmod(quitter, 0o755);
    process.env['VMCRYPT_QEMU'] = quitter;
    vi.resetModules(); // QEMU_BINARY is read when the module loads
    try {
      const { startQemu: start } = await import('../../../src/host/qemu/qemu-process.js');
      const machine = { uuid: '11111111-2222-3333-4444-555555555555', name: 'q', memoryMiB: 16, disks: [], qmpSocket: join(dir.path, 'q.qmp') };
      const err = await start(machine, dir.path, () => Buffer.alloc(64), () => undefined, 30_000).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'HOST_QEMU_FAILED' });
      expect((err as Error).message).toContain('stopped (exit code 1) while starting');
      expect((err as Error).message).toContain('unsupported machine type');
    } finally {
      process.env['VMCRYPT_QEMU'] = join(dir.path, 'fake-qemu');
      vi.resetModules();
    }
  });

  it('zeroes the passphrases already made when a later one cannot be made', async () => {
    const { startQemu } = await import('../../../src/host/qemu/qemu-process.js');
    const layer = (file: string) => ({ file: join(dir.path, file), format: 'luks' as const, encrypted: true });
    const machine = {
      uuid: '11111111-2222-3333-4444-555555555555', name: 'fake', memoryMiB: 16,
      disks: [{ layers: [layer('a.luks')] }, { layers: [layer('b.luks')] }], qmpSocket: join(dir.path, 'g.qmp'),
    };
    const made: Buffer[] = [];
    const secretFor = (disk: number): Buffer => {
      if (disk === 1) throw new Error('no key for disk 1');
      const b = Buffer.alloc(64, 0x61);
      made.push(b);
      return b;
    };
    await expect(startQemu(machine, dir.path, secretFor, () => undefined, 1000)).rejects.toThrow('no key for disk 1');
    expect(made.length).toBe(1);
    expect(made[0]?.every((x) => x === 0)).toBe(true);
  });
});
