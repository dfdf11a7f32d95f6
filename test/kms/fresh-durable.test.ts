// What the key server acknowledged is durable, also for the write a Get makes on the side: the
// first Get of a key turns Fresh false (KMIP 1.4 §3.34), and that flip must be on disk before the
// Get's reply leaves. A real `kms serve` on SQLite is SIGKILLed the moment a Get's reply arrives,
// while other connections keep creating keys (so the flip shares group commits with Creates), then
// started again on the same data: the Get key reads Fresh false, every acknowledged Create is there.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttributeName as A } from '../../src/kmip/attributes.js';
import { createKeyCall } from '../../src/kmip/client/calls/keys.js';
import { ResultStatus } from '../../src/kmip/enums.js';
import { encodeRequestMessage, type RequestBatchItem } from '../../src/kmip/message/request.js';
import { decodeResponseMessage, type ResponseMessage } from '../../src/kmip/message/response.js';
import { Operation } from '../../src/kmip/operation-codes.js';
import { decodeCreateResponse } from '../../src/kmip/payloads/create.js';
import { decodeGetAttributesResponse, encodeGetAttributesRequest } from '../../src/kmip/payloads/get-attributes.js';
import { decodeGetResponse, encodeGetRequest } from '../../src/kmip/payloads/get.js';
import { decodeTtlv, encodeTtlv } from '../../src/kmip/ttlv/index.js';
import { repoRoot, vmcryptArgv } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { startProcess, stopAll, type Running } from '../helpers/process.js';
import { openRawConnection, type RawKmipConnection, type TlsMaterial } from './kmip-connection.js';

const run = promisify(execFile);
const ROUNDS = 2;
const CREATORS = 3;

let dir: string;
let data: string;
let port: number;
let tls: TlsMaterial;

const message = (items: RequestBatchItem[]): Buffer =>
  encodeTtlv(encodeRequestMessage({ header: { protocolVersion: { major: 1, minor: 4 }, batchCount: items.length }, batchItems: items }));
const createMsg = (): Buffer => {
  const c = createKeyCall({ length: 256 });
  return message([{ operation: c.operation, payload: c.payload }]);
};

async function exchange(c: RawKmipConnection, items: RequestBatchItem[]): Promise<ResponseMessage> {
  const r = await c.exchange(message(items));
  if (r === null) throw new Error('connection closed');
  return decodeResponseMessage(decodeTtlv(r));
}

async function create(c: RawKmipConnection): Promise<string> {
  const r = await c.exchange(createMsg());
  if (r === null) throw new Error('connection closed');
  const item = decodeResponseMessage(decodeTtlv(r)).batchItems[0];
  if (item?.resultStatus !== ResultStatus.Success) throw new Error(`Create failed: ${item?.resultMessage ?? '?'}`);
  return decodeCreateResponse(item.payload).uniqueIdentifier;
}

async function startServer(): Promise<Running> {
  return startProcess(process.execPath, [...vmcryptArgv(), 'kms', 'serve', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--listen', `127.0.0.1:${port}`], {
    ready: /kms listening on 127\.0\.0\.1:\d+/,
    cwd: repoRoot,
  });
}

/** Fresh of each object as a KMIP 1.4 client reads it (undefined: the object is not there). */
async function freshOf(c: RawKmipConnection, ids: readonly string[]): Promise<Map<string, boolean | undefined>> {
  const out = new Map<string, boolean | undefined>();
  for (const id of ids) {
    const item = (await exchange(c, [{ operation: Operation.GetAttributes, payload: encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: [A.Fresh] }) }])).batchItems[0];
    if (item?.resultStatus !== ResultStatus.Success) {
      out.set(id, undefined);
      continue;
    }
    const v = decodeGetAttributesResponse(item.payload).attributes.find((a) => a.name === A.Fresh)?.value;
    out.set(id, v?.type === 'Boolean' ? v.value : undefined);
  }
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-fresh-'));
  data = join(dir, 'kms');
  const { stdout } = await run(process.execPath, [...vmcryptArgv(), 'kms', 'init', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--json'], { cwd: repoRoot });
  const init = JSON.parse(stdout) as { caCert: string; client: { cert: string; key: string } };
  tls = { cert: await readFile(init.client.cert, 'utf8'), key: await readFile(init.client.key, 'utf8'), ca: await readFile(init.caCert, 'utf8') };
  port = await freePort();
});

afterAll(async () => {
  await stopAll();
  await rm(dir, { recursive: true, force: true });
});

describe('Fresh after a crash (kill -9 right after a Get replied)', () => {
  it('the Get key stays not Fresh, keys never got stay Fresh, every acknowledged Create survives', async () => {
    const acknowledged: string[] = [];
    const served: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const server = await startServer();
      const getter = await openRawConnection(port, tls);
      const creators = await Promise.all(Array.from({ length: CREATORS }, () => openRawConnection(port, tls)));
      let stop = false;
      // Creates in flight on other connections: the Get's flip shares their group commits.
      const loops = creators.map(async (c) => {
        while (!stop) acknowledged.push(await create(c));
      });
      const settled = Promise.allSettled(loops);
      const id = await create(getter);
      acknowledged.push(id);
      const got = (await exchange(getter, [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) }])).batchItems[0];
      // The reply is here: crash now, before anything else can make the flip durable by chance.
      await server.kill();
      stop = true;
      expect(got?.resultStatus).toBe(ResultStatus.Success);
      expect(decodeGetResponse(got?.payload).symmetricKey.material).toHaveLength(32);
      served.push(id);
      await settled; // the creators end with "connection closed"
      getter.close();
      for (const c of creators) c.close();
    }
    const server = await startServer();
    const c = await openRawConnection(port, tls);
    try {
      const fresh = await freshOf(c, acknowledged);
      for (const id of acknowledged) expect(fresh.get(id), `object ${id}`).toBe(!served.includes(id));
      expect(acknowledged.length).toBeGreaterThan(ROUNDS);
    } finally {
      c.close();
      await server.stop();
    }
  });
});
