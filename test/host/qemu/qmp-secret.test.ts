import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QmpClient } from '../../../src/host/qemu/qmp.js';
import { addSecretObject } from '../../../src/host/qemu/qmp-secret.js';
import { tempDir } from '../harness.js';

// A fake QMP peer that, like QEMU, reads a `secret` object's file while handling object-add.
// The secret must arrive through the FIFO only: not in the QMP stream, not as base64 data.
describe('addSecretObject (live snapshot keys)', () => {
  let dir: { path: string; remove(): Promise<void> };
  let server: Server;
  let path: string;
  const stream: string[] = [];
  const readFromFile: string[] = [];

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-qmp-secret-');
    path = join(dir.path, 'q.sock');
    server = createServer((sock: Socket) => {
      sock.write(JSON.stringify({ QMP: { version: {}, capabilities: [] } }) + '\n');
      let buf = '';
      sock.on('data', (d) => {
        buf += d.toString();
        stream.push(d.toString());
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const msg = JSON.parse(buf.slice(0, nl)) as { execute: string; id: string; arguments?: Record<string, unknown> };
          buf = buf.slice(nl + 1);
          const reply = (body: object): void => void sock.write(JSON.stringify({ ...body, id: msg.id }) + '\n');
          if (msg.execute !== 'object-add') {
            reply({ return: {} });
            continue;
          }
          const file = msg.arguments?.['file'];
          if (msg.arguments?.['id'] === 'dup' || typeof file !== 'string') {
            reply({ error: { class: 'GenericError', desc: 'attempt to add duplicate property' } });
            continue;
          }
          void readFile(file, 'latin1').then((text) => {
            readFromFile.push(text);
            reply({ return: {} });
          });
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
  });
  afterAll(async () => {
    server.close();
    await dir.remove();
  });

  it('passes the secret through a FIFO, zeroes it and removes the FIFO', async () => {
    const qmp = await QmpClient.connect(path);
    const pass = Buffer.from('0123456789abcdef'.repeat(4), 'latin1');
    await addSecretObject(qmp, dir.path, 'sec-x', pass);
    expect(readFromFile).toEqual(['0123456789abcdef'.repeat(4)]);
    expect(pass.every((b) => b === 0)).toBe(true);
    const all = stream.join('');
    expect(all).toContain('"file"');
    expect(all).not.toContain('0123456789abcdef');
    expect(all).not.toContain(Buffer.from('0123456789abcdef'.repeat(4)).toString('base64').slice(0, 40));
    expect((await readdir(dir.path)).filter((f) => f.endsWith('.fifo'))).toEqual([]);
    qmp.close();
  });

  it('reports QEMU refusing the object without waiting for the FIFO to be read', async () => {
    const qmp = await QmpClient.connect(path);
    const pass = Buffer.alloc(64, 0x62);
    await expect(addSecretObject(qmp, dir.path, 'dup', pass)).rejects.toMatchObject({ code: 'HOST_QMP_FAILED' });
    expect(pass.every((b) => b === 0)).toBe(true);
    expect((await readdir(dir.path)).filter((f) => f.endsWith('.fifo'))).toEqual([]);
    qmp.close();
  });
});
