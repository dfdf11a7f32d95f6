import { execFile } from 'node:child_process';
import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultReason, ResultStatus, State } from '../../src/kmip/enums.js';
import { encodeRequestMessage, type RequestBatchItem } from '../../src/kmip/message/request.js';
import { decodeResponseMessage, type ResponseMessage } from '../../src/kmip/message/response.js';
import { Operation } from '../../src/kmip/operation-codes.js';
import { encodeActivateRequest } from '../../src/kmip/payloads/activate.js';
import { decodeCreateResponse } from '../../src/kmip/payloads/create.js';
import { createKeyCall } from '../../src/kmip/client/calls/keys.js';
import { decodeGetAttributesResponse, encodeGetAttributesRequest } from '../../src/kmip/payloads/get-attributes.js';
import { decodeGetResponse, encodeGetRequest } from '../../src/kmip/payloads/get.js';
import { encodeQueryRequest } from '../../src/kmip/payloads/query.js';
import { Tag } from '../../src/kmip/tags.js';
import { decodeTtlv, encodeTtlv, ttlv, type TtlvItem } from '../../src/kmip/ttlv/index.js';
import { createCa, createSelfSigned, issueCertificate, certificateInfo, CertificateUsage } from '../../src/pki/index.js';
import { repoRoot, vmcryptArgv } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { startProcess, stopAll, type Running } from '../helpers/process.js';
import { canTalk, openRawConnection, type TlsMaterial } from './kmip-connection.js';

const run = promisify(execFile);
const PY = '/usr/bin/python3';

let dir: string;
let data: string;
let port: number;
let server: Running;
let manager: TlsMaterial & { certPath: string; keyPath: string; caPath: string };

function message(items: RequestBatchItem[], minor = 2): Buffer {
  return encodeTtlv(encodeRequestMessage({ header: { protocolVersion: { major: 1, minor }, batchCount: items.length }, batchItems: items }));
}

const queryMsg = (): Buffer => message([{ operation: Operation.Query, payload: encodeQueryRequest({ queryFunctions: [1] }) }]);

async function startServer(extra: string[] = []): Promise<Running> {
  return startProcess(process.execPath, [...vmcryptArgv(), 'kms', 'serve', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--listen', `127.0.0.1:${port}`, ...extra], {
    ready: /kms listening on 127\.0\.0\.1:\d+/,
    cwd: repoRoot,
  });
}

async function send(items: RequestBatchItem[], tls: TlsMaterial = manager): Promise<ResponseMessage> {
  const c = await openRawConnection(port, tls);
  try {
    const r = await c.exchange(message(items));
    if (r === null) throw new Error('connection closed');
    return decodeResponseMessage(decodeTtlv(r));
  } finally {
    c.close();
  }
}

async function createKey(name: string): Promise<string> {
  const { operation, payload } = createKeyCall({ length: 256, name });
  const r = await send([{ operation, payload }]);
  return decodeCreateResponse(r.batchItems[0]?.payload).uniqueIdentifier;
}

async function getKey(id: string): Promise<Buffer> {
  const r = await send([{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) }]);
  expect(r.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
  return decodeGetResponse(r.batchItems[0]?.payload).symmetricKey.material;
}

async function stateOf(id: string): Promise<number | undefined> {
  const r = await send([{ operation: Operation.GetAttributes, payload: encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: ['State'] }) }]);
  const v = decodeGetAttributesResponse(r.batchItems[0]?.payload).attributes[0]?.value;
  return v?.type === 'Enumeration' ? v.value : undefined;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-serve-'));
  data = join(dir, 'kms');
  const { stdout } = await run(process.execPath, [...vmcryptArgv(), 'kms', 'init', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--json'], { cwd: repoRoot });
  const init = JSON.parse(stdout) as { caCert: string; client: { cert: string; key: string } };
  manager = {
    certPath: init.client.cert,
    keyPath: init.client.key,
    caPath: init.caCert,
    cert: await readFile(init.client.cert, 'utf8'),
    key: await readFile(init.client.key, 'utf8'),
    ca: await readFile(init.caCert, 'utf8'),
  };
  port = await freePort();
  server = await startServer();
});

afterAll(async () => {
  await stopAll();
  await rm(dir, { recursive: true, force: true });
});

describe('vmcrypt kms serve', () => {
  it.each(['1.1', '1.2'])('serves the PyKMIP client (KMIP %s): create → get → get_attributes → activate → locate → revoke → destroy', async (version) => {
    const { stdout } = await run(PY, [
      join(repoRoot, 'test', 'kms', 'interop', 'pykmip_flow.py'),
      '127.0.0.1',
      String(port),
      manager.certPath,
      manager.keyPath,
      manager.caPath,
      version,
      `pykmip-${version}`,
    ]);
    const r = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    expect(r.get).toEqual({ algorithm: 'AES', length: 256, bytes: 32 });
    expect(r.get_attributes.names).toEqual(['Cryptographic Algorithm', 'Cryptographic Length', 'Name', 'State']);
    expect(r.state_before).toBe('PRE_ACTIVE');
    expect(r.state_active).toBe('ACTIVE');
    expect(r.locate).toEqual([r.create]);
    expect(r.locate_max1).toHaveLength(1);
    expect(r.state_revoked).toBe('DEACTIVATED');
    expect(r.state_destroyed).toBe('DESTROYED');
    expect(r.destroy_active).toMatch(/PERMISSION_DENIED/);
  });

  it('answers hand-written TTLV bytes from Python (no shared encoder)', async () => {
    const { stdout } = await run(PY, [
      join(repoRoot, 'test', 'kms', 'interop', 'raw_exchange.py'),
      '127.0.0.1',
      String(port),
      manager.certPath,
      manager.keyPath,
      manager.caPath,
    ]);
    const r = JSON.parse(stdout.trim());
    expect(r).toMatchObject({ create_status: 0, get_status: 0, key_format: 1, key_bytes: 16 });
  });

  it('survives bad input on one connection and keeps serving others', async () => {
    const watcher = await openRawConnection(port, manager);
    const bad: Array<[string, Buffer]> = [];
    // Truncated: header announces 256 bytes, 16 arrive, then the client half-closes.
    bad.push(['truncated', Buffer.concat([Buffer.from('4200780100000100', 'hex'), Buffer.alloc(16)])]);
    // Oversized: header announces 2 MiB.
    bad.push(['oversized', Buffer.from('4200780100200000', 'hex')]);
    // Wrong type: the message is an Integer.
    bad.push(['wrong type', Buffer.from('42007802000000040000000100000000', 'hex')]);
    // Deep nesting inside a well-framed Request Message.
    let deep: TtlvItem = ttlv.int(Tag.BatchCount, 1);
    for (let i = 0; i < 64; i++) deep = ttlv.struct(Tag.RequestPayload, [deep]);
    bad.push(['deep nesting', encodeTtlv(ttlv.struct(Tag.RequestMessage, [deep]))]);
    // Garbage after a valid message.
    bad.push(['garbage after valid', Buffer.concat([queryMsg(), Buffer.from('deadbeefdeadbeefdeadbeef', 'hex')])]);
    // Structure framing but random body.
    bad.push(['random body', Buffer.concat([Buffer.from('4200780100000020', 'hex'), Buffer.alloc(32, 0xa5)])]);

    for (const [what, bytes] of bad) {
      const c = await openRawConnection(port, manager);
      c.write(bytes);
      if (what === 'truncated') c.socket.end();
      const first = await c.read().catch(() => null);
      if (first !== null) {
        const m = decodeResponseMessage(decodeTtlv(first));
        if (what === 'garbage after valid') {
          expect(m.batchItems[0]?.resultStatus, what).toBe(ResultStatus.Success);
          const second = await c.read().catch(() => null);
          if (second !== null) expect(decodeResponseMessage(decodeTtlv(second)).batchItems[0]?.resultReason, what).toBe(ResultReason.InvalidMessage);
        } else {
          expect(m.batchItems[0]?.resultStatus, what).toBe(ResultStatus.OperationFailed);
          expect(m.batchItems[0]?.resultReason, what).toBe(ResultReason.InvalidMessage);
        }
      }
      c.close();
      // The connection opened before the abuse, and new ones, still work.
      expect(await watcher.exchange(queryMsg()), what).not.toBeNull();
      expect(await canTalk(port, manager, queryMsg()), what).toBe(true);
    }
    // A decodable but invalid message keeps its connection usable.
    const c = await openRawConnection(port, manager);
    const deepReply = await c.exchange(bad[3]![1]);
    expect(deepReply).not.toBeNull();
    const ok = await c.exchange(queryMsg());
    expect(decodeResponseMessage(decodeTtlv(ok!)).batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
    c.close();
    watcher.close();
  });

  it('serves many connections with several requests each', async () => {
    const conns = await Promise.all(Array.from({ length: 16 }, () => openRawConnection(port, manager)));
    const results = await Promise.all(
      conns.map(async (c) => {
        let ok = 0;
        for (let i = 0; i < 5; i++) {
          const r = await c.exchange(queryMsg());
          if (r !== null && decodeResponseMessage(decodeTtlv(r)).batchItems[0]?.resultStatus === ResultStatus.Success) ok++;
        }
        c.close();
        return ok;
      }),
    );
    expect(results.reduce((a, b) => a + b, 0)).toBe(16 * 5);
  });

  it('refuses a client without certificate and one from another CA', async () => {
    expect(await canTalk(port, { ca: manager.ca }, queryMsg())).toBe(false);
    const foreignCa = await createCa({ commonName: 'foreign CA' });
    const foreign = await issueCertificate({ ca: foreignCa, commonName: 'vmcrypt-manager', usage: CertificateUsage.CLIENT });
    expect(await canTalk(port, { ca: manager.ca, cert: foreign.certPem, key: foreign.keyPem }, queryMsg())).toBe(false);
    expect(await canTalk(port, manager, queryMsg())).toBe(true);
  });

  it('keeps keys and states across a restart, accepts a pinned self-signed client, and stores no clear key bytes', async () => {
    const ids = [await createKey('restart-a'), await createKey('restart-b'), await createKey('restart-c')];
    await send([{ operation: Operation.Activate, payload: encodeActivateRequest({ uniqueIdentifier: ids[1]! }) }]);
    const keys = await Promise.all(ids.map(getKey));
    const states = await Promise.all(ids.map(stateOf));
    expect(states).toEqual([State.PreActive, State.Active, State.PreActive]);

    const scan = async (): Promise<string[]> => {
      const hits: string[] = [];
      for (const f of (await readdir(data)).filter((n) => n.startsWith('kms.db') || n === 'audit.log')) {
        const bytes = await readFile(join(data, f));
        for (const k of keys) {
          if (bytes.includes(k) || bytes.includes(Buffer.from(k.toString('hex'))) || bytes.includes(Buffer.from(k.toString('base64')))) hits.push(f);
        }
      }
      return hits;
    };
    expect(await scan()).toEqual([]); // while running (WAL not yet checkpointed)

    await server.stop();
    expect(await scan()).toEqual([]);

    const pinned = await createSelfSigned({ commonName: 'vcenter-self-signed', usage: CertificateUsage.CLIENT });
    const fp = certificateInfo(pinned.certPem).sha256Fingerprint;
    server = await startServer(['--pin', fp]);
    expect(await Promise.all(ids.map(stateOf))).toEqual(states);
    const again = await Promise.all(ids.map(getKey));
    again.forEach((k, i) => expect(k.equals(keys[i]!)).toBe(true));

    const pinnedTls = { ca: manager.ca, cert: pinned.certPem, key: pinned.keyPem };
    const r = await send([{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: ids[0]! }) }], pinnedTls);
    expect(r.batchItems[0]?.resultReason).toBe(ResultReason.PermissionDenied); // not the manager's identity
    const otherSelfSigned = await createSelfSigned({ commonName: 'not-pinned', usage: CertificateUsage.CLIENT });
    expect(await canTalk(port, { ca: manager.ca, cert: otherSelfSigned.certPem, key: otherSelfSigned.keyPem }, queryMsg())).toBe(false);
    const audit = await readFile(join(data, 'audit.log'), 'utf8');
    expect(audit).toContain(`"identity":"sha256:${fp}"`);
    for (const k of keys) expect(audit).not.toContain(k.toString('hex'));
  });

  it('stops gracefully on SIGTERM', async () => {
    await server.stop();
    expect(server.child.exitCode).toBe(0);
    expect(server.output()).toContain('kms: stopped');
  });
});
