// npm run bench:kms-crypto — our KMS vs PyKMIP's server, one after the other, same client workload,
// two phases per server on N persistent mutual-TLS connections (KMIP 1.4):
//   crypto: Encrypt of 4 KiB with AES-256-GCM (client IV, 16-byte tag), then Decrypt of it;
//   secret: Register of 32 bytes of secret data (a password), then Get of it.
// Every answer is checked (plaintext back, secret back). ops/s counts every operation.
// Last line: RESULT kms-crypto ours=<ops/s> peer=<ops/s> ratio=<ours/peer> [key=value …]
// BENCH_QUICK=1: short phases (under a minute in all). BENCH_CONNECTIONS, BENCH_SECONDS override.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attr, AttributeName } from '../src/kmip/attributes.js';
import { BlockCipherMode, CryptographicAlgorithm, CryptographicUsageMask, ObjectType, ResultStatus, SecretDataType } from '../src/kmip/enums.js';
import { encodeRequestMessage, type RequestBatchItem } from '../src/kmip/message/request.js';
import { decodeResponseMessage } from '../src/kmip/message/response.js';
import { Operation } from '../src/kmip/operation-codes.js';
import { encodeActivateRequest } from '../src/kmip/payloads/activate.js';
import { decodeCreateResponse, encodeCreateRequest } from '../src/kmip/payloads/create.js';
import { decodeDecryptResponse, encodeDecryptRequest } from '../src/kmip/payloads/decrypt.js';
import { decodeEncryptResponse, encodeEncryptRequest } from '../src/kmip/payloads/encrypt.js';
import { decodeGetObjectResponse, encodeGetRequest } from '../src/kmip/payloads/get.js';
import { decodeRegisterResponse, encodeRegisterObjectRequest } from '../src/kmip/payloads/register.js';
import { decodeTtlv, encodeTtlv, type TtlvItem } from '../src/kmip/ttlv/index.js';
import { Conn, freePort, initKms, startOurKms, startPykmip, stopChild, timedLoops, type LoopResult, type Tls } from './kmip-bench-kit.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.env['BENCH_QUICK'] === '1';
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 8);
const seconds = Number(process.env['BENCH_SECONDS'] ?? (quick ? 5 : 15));
const warmupSeconds = quick ? 1 : 2;
const PAYLOAD = 4096;

const message = (operation: number, payload: TtlvItem): Buffer =>
  encodeTtlv(encodeRequestMessage({ header: { protocolVersion: { major: 1, minor: 4 }, batchCount: 1 }, batchItems: [{ operation, payload } as RequestBatchItem] }));

async function ok(c: Conn, operation: number, payload: TtlvItem): Promise<TtlvItem | undefined> {
  const item = decodeResponseMessage(decodeTtlv(await c.call(message(operation, payload)))).batchItems[0];
  if (item?.resultStatus !== ResultStatus.Success) throw new Error(`operation ${operation} failed: ${item?.resultMessage ?? '?'}`);
  return item.payload;
}

/** An Active AES-256 key with Encrypt and Decrypt, for one connection. */
async function newKey(c: Conn): Promise<string> {
  const attributes = [
    attr.enumeration(AttributeName.CryptographicAlgorithm, CryptographicAlgorithm.AES),
    attr.int(AttributeName.CryptographicLength, 256),
    attr.int(AttributeName.CryptographicUsageMask, CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt),
  ];
  const id = decodeCreateResponse(await ok(c, Operation.Create, encodeCreateRequest({ objectType: ObjectType.SymmetricKey, templateAttribute: { templateNames: [], attributes } }))).uniqueIdentifier;
  await ok(c, Operation.Activate, encodeActivateRequest({ uniqueIdentifier: id }));
  return id;
}

const gcm = { blockCipherMode: BlockCipherMode.GCM, cryptographicAlgorithm: CryptographicAlgorithm.AES, tagLength: 16 };

async function encryptDecrypt(c: Conn, id: string, data: Buffer): Promise<void> {
  const iv = randomBytes(12);
  const enc = decodeEncryptResponse(await ok(c, Operation.Encrypt, encodeEncryptRequest({ uniqueIdentifier: id, cryptographicParameters: gcm, data, ivCounterNonce: iv })));
  if (enc.data === undefined || enc.authenticatedEncryptionTag === undefined) throw new Error('Encrypt answered no data or tag');
  const dec = decodeDecryptResponse(
    await ok(c, Operation.Decrypt, encodeDecryptRequest({ uniqueIdentifier: id, cryptographicParameters: gcm, data: enc.data, ivCounterNonce: iv, authenticatedEncryptionTag: enc.authenticatedEncryptionTag })),
  );
  if (dec.data?.equals(data) !== true) throw new Error('Decrypt did not give the plaintext back');
}

async function registerGet(c: Conn): Promise<void> {
  const value = randomBytes(32);
  const content = { objectType: ObjectType.SecretData, secretData: { secretDataType: SecretDataType.Password, value: Buffer.from(value) } } as const;
  const id = decodeRegisterResponse(await ok(c, Operation.Register, encodeRegisterObjectRequest({ templateAttribute: { templateNames: [], attributes: [] }, content }))).uniqueIdentifier;
  const got = decodeGetObjectResponse(await ok(c, Operation.Get, encodeGetRequest({ uniqueIdentifier: id }))).content;
  if (got.objectType !== ObjectType.SecretData || !got.secretData.value.equals(value)) throw new Error('Get did not give the secret back');
}

type Phase = LoopResult;

/** Runs `step` (2 operations) in a loop on every connection; operations per second after the warm-up. */
function phase(conns: Conn[], step: (c: Conn, i: number) => Promise<void>): Promise<Phase> {
  return timedLoops(
    conns,
    async (c, i, done) => {
      await step(c, i);
      done();
      done();
    },
    warmupSeconds,
    seconds,
  );
}

async function workload(port: number, tls: Tls): Promise<{ crypto: Phase; secret: Phase; opsPerSec: number }> {
  const conns = await Promise.all(Array.from({ length: connections }, () => Conn.open(port, tls)));
  try {
    const keys = await Promise.all(conns.map(newKey));
    const data = randomBytes(PAYLOAD);
    const crypto = await phase(conns, (c, i) => encryptDecrypt(c, keys[i] as string, data));
    const secret = await phase(conns, (c) => registerGet(c));
    return { crypto, secret, opsPerSec: (crypto.ops + secret.ops) / (2 * seconds) };
  } finally {
    conns.forEach((c) => c.close());
  }
}

const line = (who: string, r: Awaited<ReturnType<typeof workload>>): string =>
  `${who}: encrypt+decrypt ${r.crypto.opsPerSec.toFixed(0)} ops/s (${r.crypto.errors} errors), register+get ${r.secret.opsPerSec.toFixed(0)} ops/s (${r.secret.errors} errors), all ${r.opsPerSec.toFixed(0)} ops/s`;

const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-bench-kms-crypto-'));
const data = join(dir, 'kms');
try {
  const { init, tls, cli } = await initKms(root, data);
  const ourPort = await freePort();
  const ours = await startOurKms(root, cli, data, ourPort);
  let a: Awaited<ReturnType<typeof workload>>;
  try {
    console.log(`ours: vmcrypt kms serve on 127.0.0.1:${ourPort}, ${connections} connections, 2 × ${seconds} s`);
    a = await workload(ourPort, tls);
    console.log(line('ours', a));
  } finally {
    await stopChild(ours);
  }
  const peerPort = await freePort();
  const peer = await startPykmip(join(dir, 'pykmip'), init, peerPort);
  let b: Awaited<ReturnType<typeof workload>>;
  try {
    console.log(`peer: pykmip-server on 127.0.0.1:${peerPort}, ${connections} connections, 2 × ${seconds} s`);
    b = await workload(peerPort, tls);
    console.log(line('peer', b));
  } finally {
    await peer.stop();
  }
  const load = loadavg()[0]?.toFixed(2) ?? '?';
  console.log(
    `RESULT kms-crypto ours=${a.opsPerSec.toFixed(0)} peer=${b.opsPerSec.toFixed(0)} ratio=${(a.opsPerSec / b.opsPerSec).toFixed(1)} ` +
      `ours_encdec=${a.crypto.opsPerSec.toFixed(0)} peer_encdec=${b.crypto.opsPerSec.toFixed(0)} ours_secret=${a.secret.opsPerSec.toFixed(0)} peer_secret=${b.secret.opsPerSec.toFixed(0)} ` +
      `connections=${connections} seconds=${seconds} payload=${PAYLOAD} workload=gcm-encrypt+decrypt,secret-register+get cpus=${cpus().length} load1=${load}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
