import { describe, expect, it } from 'vitest';
import { answerError, ExitCode } from '../../../src/cli/manager-client/answer-errors.js';
import { renderProgressLine, formatDuration } from '../../../src/cli/output/progress-bar.js';
import { taskProgressDrawer, wantsProgress } from '../../../src/cli/output/task-progress.js';
import { parseProfile } from '../../../src/cli/profile.js';
import { pick } from '../../../src/cli/manager-client/resolve.js';
import type { TaskInfo } from '../../../src/cli/manager-client/records.js';

const err = (code: string, message: string) => ({ error: { code, message } });

describe('manager answers → CLI errors', () => {
  it('401 says log in again, exit 5', () => {
    const e = answerError(401, err('MANAGER_UNAUTHENTICATED', 'no session'), 'GET /api/vms');
    expect(e).toMatchObject({ code: 'LOGIN_REQUIRED', exitCode: ExitCode.LOGIN_REQUIRED });
    expect(e.message).toMatch(/log in again: vmcrypt login/);
  });

  it('403 names the user, privilege and object, exit 3', () => {
    const e = answerError(403, err('MANAGER_FORBIDDEN', 'user nca lacks privilege Cryptographer.Encrypt on vm vm-1'), 'POST /api/vms/vm-1/policy');
    expect(e).toMatchObject({ code: 'DENIED', exitCode: 3 });
    expect(e.message).toMatch(/^denied: you \(nca\) lack privilege Cryptographer\.Encrypt on vm vm-1/);
  });

  it('409 quotes the rule, 404 and others keep the manager code', () => {
    expect(answerError(409, err('MANAGER_CONFLICT', 'VM is on (rule: vm-powered-off)'), 'x').message).toMatch(/refused: "VM is on \(rule: vm-powered-off\)" \(MANAGER_CONFLICT\)/);
    expect(answerError(404, err('MANAGER_NOT_FOUND', 'vm x not found'), 'x')).toMatchObject({ code: 'NOT_FOUND', exitCode: 1 });
    expect(answerError(500, err('MANAGER_INTERNAL', 'boom'), 'x').message).toMatch(/500 MANAGER_INTERNAL: boom/);
    expect(answerError(502, { text: '<html>' }, 'x')).toMatchObject({ code: 'MANAGER_FAILED' });
  });
});

describe('progress bar', () => {
  it('shows percent, rate and an ETA from the bytes left', () => {
    const line = renderProgressLine('encrypt web-01', { percent: 50, bytesDone: 512 << 20, bytesTotal: 1024 << 20, rate: 256 << 20 }, 2, 10);
    expect(line).toBe('encrypt web-01 [#####-----]  50%  256.0 MiB/s  ETA 00:02');
  });

  it('falls back to the percent per second seen when there is no rate; --:-- before any progress', () => {
    expect(renderProgressLine('x', { percent: 25 }, 10, 4)).toMatch(/\[#---\]  25%  ETA 00:30$/);
    expect(renderProgressLine('x', { percent: 0 }, 10, 4)).toMatch(/ETA --:--$/);
    expect(formatDuration(3725)).toBe('1:02:05');
  });

  it('draws in place on the sink and ends with a newline; never when not interactive or with --json', () => {
    const writes: string[] = [];
    let now = 0;
    const d = taskProgressDrawer('t', { write: (c) => writes.push(c), columns: 80 }, () => now);
    now = 1000;
    d.update({ id: '1', kind: 'k', state: 'running', percent: 10, startedAt: '' } satisfies TaskInfo);
    d.done();
    expect(writes[0]?.startsWith('\r')).toBe(true);
    expect(writes.at(-1)).toBe('\n');
    expect(wantsProgress(false, true, true)).toBe(true);
    expect(wantsProgress(true, true, true)).toBe(false);
    expect(wantsProgress(false, true, false)).toBe(false);
    expect(wantsProgress(false, false, true)).toBe(false);
  });

  it('a terminal reporting 0 columns gets a full-width bar, not a 20-character stub', () => {
    const writes: string[] = [];
    const d = taskProgressDrawer('migrating', { write: (c) => writes.push(c), columns: 0 }, () => 0);
    d.update({ id: '1', kind: 'k', state: 'running', percent: 40, startedAt: '' } satisfies TaskInfo);
    expect(writes[0]?.length).toBe(100);
  });
});

describe('profile validation', () => {
  const ok = { version: 1, managerUrl: 'https://127.0.0.1:9443/', thumbprint: 'a'.repeat(64), token: 't'.repeat(43) };
  it('accepts a good profile (origin only) and rejects each bad field without echoing the token', () => {
    expect(parseProfile(ok, 'p.json')).toEqual({ ...ok, managerUrl: 'https://127.0.0.1:9443' });
    for (const bad of [null, [], { ...ok, version: 2 }, { ...ok, managerUrl: 'http://x' }, { ...ok, thumbprint: 'AB' }, { ...ok, token: 'short' }, { ...ok, user: 5 }]) {
      let caught: unknown;
      try {
        parseProfile(bad, 'p.json');
      } catch (e) {
        caught = e;
      }
      expect(caught).toMatchObject({ code: 'PROFILE_INVALID' });
      expect(String((caught as Error).message)).not.toContain('t'.repeat(43));
    }
  });
});

describe('objects by name or id', () => {
  const items = [{ id: 'vm-1', name: 'web' }, { id: 'vm-2', name: 'db' }, { id: 'vm-3', name: 'db' }];
  it('prefers the id, accepts a unique name, refuses an ambiguous one with the ids', () => {
    expect(pick(items, 'vm-2', 'VM', 'l').id).toBe('vm-2');
    expect(pick(items, 'web', 'VM', 'l').id).toBe('vm-1');
    expect(() => pick(items, 'db', 'VM', 'l')).toThrow(/vm-2, vm-3/);
    expect(() => pick(items, 'nope', 'VM', 'l')).toThrow(/no VM 'nope'/);
  });
});
