import { access } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildQemuArgv } from '../../../src/host/qemu/qemu-argv.js';
import { QEMU_BINARY } from '../../../src/host/qemu/qemu-process.js';
import { FIRMWARE_PREFIX, FirmwareLog, MAX_LINE_CHARS, MAX_LINES } from '../../../src/host/vm/firmware-log.js';
import { startProcess, stopAll } from '../../helpers/process.js';
import { waitFor } from '../../helpers/wait.js';
import { tempDir } from '../harness.js';

const dirs: Array<{ remove(): Promise<void> }> = [];
afterAll(async () => {
  await stopAll();
  for (const d of dirs) await d.remove();
});

async function socketDir(): Promise<string> {
  const d = await tempDir('vmcrypt-fw-');
  dirs.push(d);
  return d.path;
}

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

async function peer(path: string): Promise<Socket> {
  const s = connect(path);
  await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
  return s;
}

describe('FirmwareLog (the debug console socket)', () => {
  it('hands over whole lines, prefixed, non-printable bytes as ?, a long line going on in the next; one peer only, its socket file gone', async () => {
    const path = join(await socketDir(), 'a.fw');
    const lines: string[] = [];
    const fw = await FirmwareLog.listen(path, (l) => lines.push(l));
    const s = await peer(path);
    await waitFor('the socket file removed once the firmware connected', async () => !(await exists(path)), 10_000);
    s.write('SeaBIOS (version x)\r\nBoo');
    s.write(Buffer.from([0x74, 0x07, 0x1b, 0xff, 0x0a]));
    s.write('x'.repeat(MAX_LINE_CHARS + 5) + '\n' + 'tail without newline');
    s.end();
    await waitFor('the tail flushed at the end of the stream', async () => lines.length === 5, 10_000);
    expect(lines).toEqual([
      `${FIRMWARE_PREFIX}SeaBIOS (version x)`,
      `${FIRMWARE_PREFIX}Boot???`,
      `${FIRMWARE_PREFIX}${'x'.repeat(MAX_LINE_CHARS)}`,
      `${FIRMWARE_PREFIX}xxxxx`,
      `${FIRMWARE_PREFIX}tail without newline`,
    ]);
    await fw.close();
  });

  it('keeps at most MAX_LINES lines of one power-on and says so once; the rest is still read', async () => {
    const path = join(await socketDir(), 'b.fw');
    const lines: string[] = [];
    const fw = await FirmwareLog.listen(path, (l) => lines.push(l));
    const s = await peer(path);
    const flood = 'spam\n'.repeat(MAX_LINES * 3);
    await new Promise<void>((resolve) => s.end(flood, resolve));
    await waitFor('the flood read', async () => lines.length === MAX_LINES + 1, 10_000);
    await fw.close();
    expect(lines.at(-1)).toContain(`more than ${MAX_LINES} lines`);
    expect(lines.filter((l) => l === `${FIRMWARE_PREFIX}spam`)).toHaveLength(MAX_LINES);
  });

  it('close() before any peer removes the socket file', async () => {
    const path = join(await socketDir(), 'c.fw');
    const fw = await FirmwareLog.listen(path, () => undefined);
    expect(await exists(path)).toBe(true);
    await fw.close();
    expect(await exists(path)).toBe(false);
  });
});

describe('QEMU with the firmware console (real QEMU, SeaBIOS, no boot device)', () => {
  it('the command line: isa-debugcon on port 0x402 to the socket, no reboot after a failed boot', () => {
    const { argv } = buildQemuArgv({ uuid: '11111111-2222-3333-4444-555555555555', name: 'v', memoryMiB: 64, disks: [], qmpSocket: '/run/v.qmp', firmwareLog: '/run/v,1.fw' });
    const line = argv.join(' ');
    expect(line).toContain('-chardev socket,id=fwlog,path=/run/v,,1.fw -device isa-debugcon,iobase=0x402,chardev=fwlog');
    expect(line).toContain('-boot reboot-timeout=-1');
    expect(buildQemuArgv({ uuid: '11111111-2222-3333-4444-555555555555', name: 'v', memoryMiB: 64, disks: [], qmpSocket: '/run/v.qmp' }).argv).not.toContain('isa-debugcon,iobase=0x402,chardev=fwlog');
  });

  it('SeaBIOS logs through it up to "No bootable device." (the settle line the migration tests wait for)', async () => {
    const dir = await socketDir();
    const lines: string[] = [];
    const fw = await FirmwareLog.listen(join(dir, 'q.fw'), (l) => lines.push(l));
    const { argv } = buildQemuArgv({ uuid: '11111111-2222-3333-4444-555555555555', name: 'fw', memoryMiB: 64, disks: [], qmpSocket: join(dir, 'q.qmp'), firmwareLog: join(dir, 'q.fw') });
    const qemu = await startProcess(QEMU_BINARY, argv);
    try {
      await waitFor('the settle line', async () => lines.includes(`${FIRMWARE_PREFIX}No bootable device.`), 60_000);
    } finally {
      await qemu.stop();
      await fw.close();
    }
    expect(lines[0]).toMatch(/^firmware: SeaBIOS \(version /);
    expect(lines.some((l) => l.startsWith(`${FIRMWARE_PREFIX}Relocating init from`))).toBe(true);
    expect(lines.some((l) => /Rebooting|Retrying in/.test(l))).toBe(false);
  });
});
