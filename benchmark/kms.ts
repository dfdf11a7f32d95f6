// npm run bench:kms — our KMS vs PyKMIP's server, one after the other, same client workload:
// N persistent mutual-TLS connections, each looping Create(AES-256) then Get of the new key.
// Last line: RESULT kms ours=<ops/s> peer=<ops/s> ratio=<ours/peer> [key=value …]
// BENCH_QUICK=1: short runs (under a minute in all). BENCH_CONNECTIONS, BENCH_SECONDS override.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ResultStatus } from '../src/kmip/enums.js';
import { createKeyCall } from '../src/kmip/client/calls/keys.js';
import { encodeRequestMessage, type RequestBatchItem } from '../src/kmip/message/request.js';
import { decodeResponseMessage } from '../src/kmip/message/response.js';
import { Operation } from '../src/kmip/operation-codes.js';
import { decodeCreateResponse } from '../src/kmip/payloads/create.js';
import { decodeGetResponse, encodeGetRequest } from '../src/kmip/payloads/get.js';
import { decodeTtlv, encodeTtlv } from '../src/kmip/ttlv/index.js';
import { Conn, freePort, initKms, startOurKms, startPykmip, stopChild, timedLoops, type LoopResult, type Tls } from './kmip-bench-kit.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.env['BENCH_QUICK'] === '1';
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 8);
const seconds = Number(process.env['BENCH_SECONDS'] ?? (quick ? 6 : 20));
const warmupSeconds = quick ? 1 : 3;
const message = (item: RequestBatchItem): Buffer =>
  encodeTtlv(encodeRequestMessage({ header: { protocolVersion: { major: 1, minor: 1 }, batchCount: 1 }, batchItems: [item] }));

// Create of an AES-256 key, built by the client's call builder (the same request vCenter-style clients send).
const createCall = createKeyCall({ length: 256 });
const createMsg = message({ operation: createCall.operation, payload: createCall.payload });

function okPayload(resp: Buffer) {
  const item = decodeResponseMessage(decodeTtlv(resp)).batchItems[0];
  if (item?.resultStatus !== ResultStatus.Success) throw new Error(`operation failed: ${item?.resultMessage ?? '?'}`);
  return item.payload;
}

/** Runs the Create+Get loop on N connections; returns completed operations per second. */
async function workload(port: number, tls: Tls): Promise<LoopResult> {
  const conns = await Promise.all(Array.from({ length: connections }, () => Conn.open(port, tls)));
  const r = await timedLoops(
    conns,
    async (c, _i, done) => {
      const id = decodeCreateResponse(okPayload(await c.call(createMsg))).uniqueIdentifier;
      done();
      const key = decodeGetResponse(okPayload(await c.call(message({ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) })))).symmetricKey;
      if (key.material.length !== 32) throw new Error('bad key');
      key.material.fill(0);
      done();
    },
    warmupSeconds,
    seconds,
  );
  conns.forEach((c) => c.close());
  return r;
}

const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-bench-kms-'));
const data = join(dir, 'kms');
try {
  const { init, tls, cli } = await initKms(root, data);

  // Ours.
  const ourPort = await freePort();
  const ours = await startOurKms(root, cli, data, ourPort);
  let a: Awaited<ReturnType<typeof workload>>;
  try {
    console.log(`ours: vmcrypt kms serve on 127.0.0.1:${ourPort}, ${connections} connections, ${seconds} s`);
    a = await workload(ourPort, tls);
    console.log(`ours: ${a.ops} ops, ${a.opsPerSec.toFixed(0)} ops/s, ${a.errors} errors`);
  } finally {
    await stopChild(ours);
  }

  // Peer: PyKMIP 0.10 server, same certificates, SQLite database in the temp dir.
  const peerPort = await freePort();
  const peer = await startPykmip(join(dir, 'pykmip'), init, peerPort);
  let b: Awaited<ReturnType<typeof workload>>;
  try {
    console.log(`peer: pykmip-server on 127.0.0.1:${peerPort}, ${connections} connections, ${seconds} s`);
    b = await workload(peerPort, tls);
    console.log(`peer: ${b.ops} ops, ${b.opsPerSec.toFixed(0)} ops/s, ${b.errors} errors`);
  } finally {
    await peer.stop();
  }

  const load = loadavg()[0]?.toFixed(2) ?? '?';
  console.log(
    `RESULT kms ours=${a.opsPerSec.toFixed(0)} peer=${b.opsPerSec.toFixed(0)} ratio=${(a.opsPerSec / b.opsPerSec).toFixed(1)} connections=${connections} seconds=${seconds} workload=create+get cpus=${cpus().length} load1=${load}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
