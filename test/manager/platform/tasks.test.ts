import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EntityKind, type TaskInfo } from '../../../src/manager/contracts.js';
import { ManagerError } from '../../../src/manager/errors.js';
import type { ManagerPlatform } from '../../../src/manager/platform/platform.js';
import { ManualClock, openPlatform, tempDir } from './fixture.js';

describe('tasks', () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  let p: ManagerPlatform;
  const clock = new ManualClock();
  beforeEach(async () => {
    t = await tempDir();
    p = await openPlatform(t.dir, clock);
  });
  afterEach(async () => {
    p.close();
    await t.cleanup();
  });

  it('reports progress (percent, bytes, rate) and the result, persisted', async () => {
    const seen: TaskInfo[] = [];
    p.taskManager.subscribe((i) => seen.push(i));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const info = p.tasks.start({ kind: 'vm.encrypt', entity: { kind: EntityKind.VM, id: 'vm-1' }, user: 'alice' }, async (progress) => {
      clock.advance(2000);
      progress.update({ bytesDone: 512, bytesTotal: 2048, message: 'copying' });
      await gate;
      return { disks: 1 };
    });
    expect(info.state).toBe('running');
    await new Promise((r) => setImmediate(r));
    const mid = p.taskManager.get(info.id)!;
    expect(mid).toMatchObject({ percent: 25, bytesDone: 512, bytesTotal: 2048, rate: 256, message: 'copying', state: 'running' });
    release();
    const done = await p.tasks.wait(info.id);
    expect(done).toMatchObject({ state: 'success', percent: 100, result: { disks: 1 }, user: 'alice' });
    expect(done.endedAt).toBeDefined();
    expect(seen.map((s) => s.state)).toEqual(['running', 'running', 'success']);
    expect(p.taskManager.list({ kind: 'vm.encrypt' })[0]).toMatchObject({ id: info.id, state: 'success', result: { disks: 1 } });
  });

  it("records a failure's code and message", async () => {
    const info = p.tasks.start({ kind: 'key.create' }, async () => {
      throw new ManagerError('MANAGER_KMS_UNREACHABLE', 'no key server of kp-1 answered');
    });
    const done = await p.tasks.wait(info.id);
    expect(done).toMatchObject({ state: 'error', error: { code: 'MANAGER_KMS_UNREACHABLE', message: 'no key server of kp-1 answered' } });
  });

  it('a manager restart marks running tasks as failed', async () => {
    const info = p.tasks.start({ kind: 'vm.deepRekey' }, () => new Promise(() => {}));
    p.close();
    p = await openPlatform(t.dir, clock);
    expect(p.taskManager.get(info.id)).toMatchObject({ state: 'error', error: { code: 'MANAGER_INTERNAL', message: 'manager restarted' } });
    expect(p.taskManager.get(info.id)?.endedAt).toBeDefined();
    await expect(p.tasks.wait('nope')).rejects.toThrow(/not found/);
  });
});
