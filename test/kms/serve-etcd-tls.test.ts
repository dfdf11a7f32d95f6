import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, AttributeName } from '../../src/kmip/attributes.js';
import { CryptographicAlgorithm, ObjectType, ResultStatus } from '../../src/kmip/enums.js';
import { encodeRequestMessage, type RequestBatchItem } from '../../src/kmip/message/request.js';
import { decodeResponseMessage } from '../../src/kmip/message/response.js';
import { Operation } from '../../src/kmip/operation-codes.js';
import { decodeCreateResponse, encodeCreateRequest } from '../../src/kmip/payloads/create.js';
import { decodeGetResponse, encodeGetRequest } from '../../src/kmip/payloads/get.js';
import { decodeTtlv, encodeTtlv } from '../../src/kmip/ttlv/index.js';
import { writePrivateKeyFile } from '../../src/pki/index.js';
import { repoRoot, vmcryptArgv } from '../helpers/cli.js';
import { startTestEtcd, type TestEtcdCluster } from '../helpers/etcd.js';
import { freePort } from '../helpers/net.js';
import { startProcess, stopAll } from '../helpers/process.js';
import { openRawConnection, type TlsMaterial } from './kmip-connection.js';

/** `kms serve --store etcd` with --etcd-ca/--etcd-cert/--etcd-key against etcd members that require client certificates. */
const run = promisify(execFile);
const vmcrypt = (...args: string[]) => run(process.execPath, [...vmcryptArgv(), ...args], { cwd: repoRoot });

let dir: string;
let etcd: TestEtcdCluster;
let data: string;
let manager: TlsMaterial;
const files = { ca: '', cert: '', key: '' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-etcd-tls-'));
  etcd = await startTestEtcd(1, { tls: true });
  const tls = etcd.clientTls;
  if (tls === undefined) throw new Error('no etcd TLS material');
  files.ca = join(dir, 'etcd-ca.crt');
  files.cert = join(dir, 'etcd-client.crt');
  files.key = join(dir, 'etcd-client.key');
  await writeFile(files.ca, tls.caPem);
  await writeFile(files.cert, tls.certPem);
  await writePrivateKeyFile(files.key, tls.keyPem);
  data = join(dir, 'kms');
  const init = JSON.parse((await vmcrypt('kms', 'init', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--json')).stdout) as { caCert: string; client: { cert: string; key: string } };
  manager = { ca: await readFile(init.caCert, 'utf8'), cert: await readFile(init.client.cert, 'utf8'), key: await readFile(init.client.key, 'utf8') };
}, 60_000);

afterAll(async () => {
  await stopAll();
  await etcd?.destroy();
  await rm(dir, { recursive: true, force: true });
});

function message(items: RequestBatchItem[]): Buffer {
  return encodeTtlv(encodeRequestMessage({ header: { protocolVersion: { major: 1, minor: 2 }, batchCount: items.length }, batchItems: items }));
}

describe('kms serve --store etcd over TLS', () => {
  it('refuses inconsistent etcd TLS flags with usage errors', async () => {
    const base = ['kms', 'serve', '--data', data, '--listen', '127.0.0.1:0'];
    await expect(vmcrypt(...base, '--etcd-ca', files.ca)).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--store etcd') });
    const etcdArgs = [...base, '--store', 'etcd', '--etcd', etcd.endpoints];
    await expect(vmcrypt(...etcdArgs, '--etcd-cert', files.cert, '--etcd-key', files.key)).rejects.toMatchObject({ code: 2 });
    await expect(vmcrypt(...etcdArgs, '--etcd-ca', files.ca, '--etcd-cert', files.cert)).rejects.toMatchObject({ code: 2 });
  });

  it('stores keys in etcd with the client certificate the members require', async () => {
    const port = await freePort();
    const kms = await startProcess(
      process.execPath,
      [...vmcryptArgv(), 'kms', 'serve', '--data', data, '--auto-unseal-file', `${data}.unseal`, '--listen', `127.0.0.1:${port}`, '--store', 'etcd', '--etcd', etcd.endpoints,
        '--etcd-ca', files.ca, '--etcd-cert', files.cert, '--etcd-key', files.key],
      { cwd: repoRoot, ready: /kms listening on .* \(store etcd\)/ },
    );
    const c = await openRawConnection(port, manager);
    try {
      const created = decodeResponseMessage(decodeTtlv((await c.exchange(message([{
        operation: Operation.Create,
        payload: encodeCreateRequest({
          objectType: ObjectType.SymmetricKey,
          templateAttribute: { templateNames: [], attributes: [attr.enumeration(AttributeName.CryptographicAlgorithm, CryptographicAlgorithm.AES), attr.int(AttributeName.CryptographicLength, 256)] },
        }),
      }])))!));
      expect(created.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
      const id = decodeCreateResponse(created.batchItems[0]?.payload).uniqueIdentifier;
      const got = decodeResponseMessage(decodeTtlv((await c.exchange(message([{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) }])))!));
      expect(decodeGetResponse(got.batchItems[0]?.payload).symmetricKey.material).toHaveLength(32);
    } finally {
      c.close();
      await kms.stop();
    }
  });

});
