import { describe, expect, it } from 'vitest';
import type { HostGateway, ProgressUpdate } from '../../../src/manager/contracts.js';
import { inPlaceMessage, parseInPlaceProgress, withInPlaceProgress } from '../../../src/manager/inventory/ops/in-place-mode.js';

// Unit: the task's progress during an in-place operation comes from the host's
// GET /v1/vms/{uuid} → inPlace.progress (untrusted: parsed with bounds), as bytes over every
// disk and a message with the engine's position.
describe('in-place progress of a manager task', () => {
  const hostVm = (progress: unknown) => ({ uuid: 'u', inPlace: { op: 'encrypt', disks: [0, 1], progress } });

  it('parses the host figure and refuses malformed ones', () => {
    expect(parseInPlaceProgress(hostVm({ disk: 1, rank: 1, disks: 2, doneBytes: 10, totalBytes: 100, position: 90, direction: 'down' })))
      .toEqual({ disk: 1, rank: 1, disks: 2, doneBytes: 10, totalBytes: 100, position: 90, direction: 'down' });
    expect(parseInPlaceProgress({ uuid: 'u' })).toBeUndefined();
    expect(parseInPlaceProgress(null)).toBeUndefined();
    expect(parseInPlaceProgress(hostVm({ disk: 0, rank: 0, disks: 1, doneBytes: -1, totalBytes: 100 }))).toBeUndefined();
    expect(parseInPlaceProgress(hostVm({ disk: 0, rank: 0, disks: 1, doneBytes: 1, totalBytes: 2 ** 60 }))).toBeUndefined();
    expect(parseInPlaceProgress(hostVm({ disk: 0, rank: 0, disks: 1, doneBytes: 1, totalBytes: 2, direction: 'sideways' }))).toEqual({ disk: 0, rank: 0, disks: 1, doneBytes: 1, totalBytes: 2 });
  });

  it('words the position as the disk CLI does', () => {
    expect(inPlaceMessage({ disk: 3, rank: 0, disks: 2, doneBytes: 0, totalBytes: 1, position: 312 * 1024 * 1024, direction: 'down' })).toBe('in place: disk 1 of 2 at 312.0 MiB ↓');
    expect(inPlaceMessage({ disk: 0, rank: 1, disks: 2, doneBytes: 1024 * 1024, totalBytes: 1, direction: 'up' })).toBe('in place: disk 2 of 2 at 1.0 MiB ↑');
  });

  it('polls the host while the operation runs and reports bytes over all disks; stops after it', async () => {
    let calls = 0;
    const hosts = {
      call: async () => {
        calls++;
        return hostVm({ disk: 1, rank: 1, disks: 2, doneBytes: 50, totalBytes: 100, position: 50, direction: 'down' });
      },
    } as unknown as HostGateway;
    const seen: ProgressUpdate[] = [];
    let release: () => void = () => undefined;
    const running = new Promise<void>((r) => (release = r));
    const out = withInPlaceProgress(hosts, () => 'h1', 'vm1', { update: (p) => seen.push(p) }, async () => {
      while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
      await running;
      return 'done';
    }, 5);
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    release();
    expect(await out).toBe('done');
    expect(seen[0]).toMatchObject({ bytesDone: 150, bytesTotal: 200, message: 'in place: disk 2 of 2 at 0.0 MiB ↓' });
    const after = calls;
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toBe(after);
  });
});
