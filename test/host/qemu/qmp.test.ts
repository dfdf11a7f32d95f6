import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QmpClient, type QmpEvent } from '../../../src/host/qemu/qmp.js';

// A fake QMP peer (unit test): greeting, capabilities, replies by id, errors, events.
describe('QmpClient', () => {
  let dir: string;
  let server: Server;
  let path: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmcrypt-qmp-'));
    path = join(dir, 'q.sock');
    server = createServer((sock: Socket) => {
      sock.write(JSON.stringify({ QMP: { version: {}, capabilities: [] } }) + '\n');
      let buf = '';
      sock.on('data', (d) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const msg = JSON.parse(buf.slice(0, nl)) as { execute: string; id: string; arguments?: Record<string, unknown> };
          buf = buf.slice(nl + 1);
          if (msg.execute === 'hang') continue; // a hung QEMU: never answers
          if (msg.execute === 'fail') sock.write(JSON.stringify({ error: { class: 'GenericError', desc: 'it failed' }, id: msg.id }) + '\n');
          else if (msg.execute === 'human-monitor-command') sock.write(JSON.stringify({ return: `ran ${String(msg.arguments?.['command-line'])}`, id: msg.id }) + '\n');
          else {
            // an event first, then the split reply: the client must reassemble lines
            sock.write(JSON.stringify({ event: 'STOP', data: { x: 1 } }) + '\n');
            const reply = JSON.stringify({ return: { ok: msg.execute }, id: msg.id }) + '\n';
            sock.write(reply.slice(0, 5));
            setTimeout(() => sock.write(reply.slice(5)), 5);
          }
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
  });
  afterAll(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('negotiates, matches replies, reports errors and events', async () => {
    const q = await QmpClient.connect(path);
    const events: QmpEvent[] = [];
    q.onEvent((e) => events.push(e));
    expect(await q.execute('query-status')).toEqual({ ok: 'query-status' });
    expect(await q.hmp('info status')).toBe('ran info status');
    await expect(q.execute('fail')).rejects.toMatchObject({ code: 'HOST_QMP_FAILED', message: 'QMP fail: it failed' });
    expect(events[0]).toEqual({ event: 'STOP', data: { x: 1 } });
    q.close();
    await new Promise((r) => setTimeout(r, 20));
    await expect(q.execute('query-status')).rejects.toMatchObject({ code: 'HOST_QMP_FAILED' });
  });

  it('gives up on a command QEMU never answers, and keeps working', async () => {
    const q = await QmpClient.connect(path);
    await expect(q.execute('hang', undefined, 100)).rejects.toMatchObject({ code: 'HOST_QMP_FAILED', message: 'QMP hang: no reply from QEMU within 100 ms' });
    expect(await q.execute('query-status')).toEqual({ ok: 'query-status' });
    q.close();
  });
});
