import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeRequestMessage, encodeRequestMessage } from '../../src/kmip/message/request.js';
import { decodeResponseMessage, encodeResponseMessage } from '../../src/kmip/message/response.js';
import { decodeCreateRequest, encodeCreateRequest, decodeCreateResponse, encodeCreateResponse } from '../../src/kmip/payloads/create.js';
import { decodeGetRequest, encodeGetRequest, decodeGetResponse, encodeGetResponse } from '../../src/kmip/payloads/get.js';
import { decodeDestroyRequest, encodeDestroyRequest } from '../../src/kmip/payloads/destroy.js';
import { decodeLocateRequest, encodeLocateRequest, decodeLocateResponse, encodeLocateResponse } from '../../src/kmip/payloads/locate.js';
import { nameValueOf } from '../../src/kmip/attributes.js';
import { ResultReason, ResultStatus } from '../../src/kmip/enums.js';
import { Operation } from '../../src/kmip/operation-codes.js';
import { Tag } from '../../src/kmip/tags.js';
import { decodeTtlv, encodeTtlv, type TtlvItem } from '../../src/kmip/ttlv/index.js';
import { repoRoot } from '../helpers/cli.js';

interface Vector {
  readonly name: string;
  readonly source: string;
  readonly hex: string;
}

const vectors: Vector[] = JSON.parse(readFileSync(join(repoRoot, 'test', 'vectors', 'kmip', 'messages.json'), 'utf8'));
const byName = (n: string): Buffer => Buffer.from(vectors.find((v) => v.name === n)?.hex ?? '', 'hex');
const hex = (item: TtlvItem): string => encodeTtlv(item).toString('hex');

describe('KMIP vectors (KMIP 1.1 test cases, PyKMIP encodings)', () => {
  it('has the vectors', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(9);
  });

  it.each(vectors.map((v) => [v.name, v] as const))('%s round-trips through the TTLV codec byte for byte', (_n, v) => {
    const bytes = Buffer.from(v.hex, 'hex');
    expect(encodeTtlv(decodeTtlv(bytes)).toString('hex')).toBe(v.hex);
  });

  it.each(vectors.filter((v) => v.name.includes('request')).map((v) => [v.name, v] as const))(
    '%s round-trips through the request message codec',
    (_n, v) => {
      const m = decodeRequestMessage(decodeTtlv(Buffer.from(v.hex, 'hex')));
      expect(hex(encodeRequestMessage(m))).toBe(v.hex);
    },
  );

  it.each(vectors.filter((v) => v.name.includes('response')).map((v) => [v.name, v] as const))(
    '%s round-trips through the response message codec',
    (_n, v) => {
      const m = decodeResponseMessage(decodeTtlv(Buffer.from(v.hex, 'hex')));
      expect(hex(encodeResponseMessage(m))).toBe(v.hex);
    },
  );

  it('decodes the Create request payload and re-encodes it byte for byte', () => {
    const m = decodeRequestMessage(decodeTtlv(byName('pykmip-request-create')));
    expect(m.header.protocolVersion).toEqual({ major: 1, minor: 1 });
    const item = m.batchItems[0];
    expect(item?.operation).toBe(Operation.Create);
    const req = decodeCreateRequest(item?.payload);
    expect(req.templateAttribute.attributes.map((a) => a.name)).toEqual([
      'Cryptographic Algorithm',
      'Cryptographic Length',
      'Cryptographic Usage Mask',
    ]);
    expect(hex(encodeCreateRequest(req))).toBe(hex(item?.payload as TtlvItem));
  });

  it('decodes Get and Destroy request payloads', () => {
    const get = decodeRequestMessage(decodeTtlv(byName('pykmip-request-get'))).batchItems[0];
    const g = decodeGetRequest(get?.payload);
    expect(g.uniqueIdentifier).toBe('49a1ca88-6bea-4fb2-b450-7e58802c3038');
    expect(hex(encodeGetRequest(g))).toBe(hex(get?.payload as TtlvItem));
    const destroy = decodeRequestMessage(decodeTtlv(byName('pykmip-request-destroy'))).batchItems[0];
    expect(destroy?.operation).toBe(Operation.Destroy);
    const d = decodeDestroyRequest(destroy?.payload);
    expect(d.uniqueIdentifier).toBe('fb4b5b9c-6188-4c63-8142-fe9c328129fc');
    expect(hex(encodeDestroyRequest(d))).toBe(hex(destroy?.payload as TtlvItem));
  });

  it('decodes the Locate request of KMIP test case 3.1.3', () => {
    const loc = decodeRequestMessage(decodeTtlv(byName('kmip-testcases-1.1-3.1.3-request-locate'))).batchItems[0];
    const l = decodeLocateRequest(loc?.payload);
    expect(l.attributes.map((a) => a.name)).toEqual(['Object Type', 'Name']);
    expect(nameValueOf(l.attributes[1]!)).toBe('Key1');
    expect(hex(encodeLocateRequest(l))).toBe(hex(loc?.payload as TtlvItem));
    const resp = decodeResponseMessage(decodeTtlv(byName('kmip-testcases-1.1-3.1.3-response-locate'))).batchItems[0];
    const lr = decodeLocateResponse(resp?.payload);
    expect(lr.uniqueIdentifiers).toEqual(['49a1ca88-6bea-4fb2-b450-7e58802c3038']);
    expect(hex(encodeLocateResponse(lr))).toBe(hex(resp?.payload as TtlvItem));
  });

  it('decodes Create and Get responses, key block included', () => {
    const c = decodeResponseMessage(decodeTtlv(byName('pykmip-response-create')));
    expect(c.header.timeStamp).toBe(0x4f9a54e5n);
    const cr = decodeCreateResponse(c.batchItems[0]?.payload);
    expect(cr.uniqueIdentifier).toBe('fb4b5b9c-6188-4c63-8142-fe9c328129fc');
    expect(hex(encodeCreateResponse(cr))).toBe(hex(c.batchItems[0]?.payload as TtlvItem));
    const g = decodeResponseMessage(decodeTtlv(byName('pykmip-response-get')));
    const gr = decodeGetResponse(g.batchItems[0]?.payload);
    expect(gr.symmetricKey.material.toString('hex')).toBe('7367578051012a6d134a855e25c8cd5e4ca131455729d3c8');
    expect(gr.symmetricKey.length).toBe(168);
    expect(hex(encodeGetResponse(gr))).toBe(hex(g.batchItems[0]?.payload as TtlvItem));
  });

  it('decodes an Invalid Message failure', () => {
    const m = decodeResponseMessage(decodeTtlv(byName('pykmip-response-invalid-message')));
    expect(m.batchItems[0]?.resultStatus).toBe(ResultStatus.OperationFailed);
    expect(m.batchItems[0]?.resultReason).toBe(ResultReason.InvalidMessage);
    expect(m.batchItems[0]?.resultMessage).toBe('Default response. No operations supported.');
  });

  it('keeps an unknown operation (MAC) intact as a raw payload', () => {
    const m = decodeRequestMessage(decodeTtlv(byName('pykmip-request-mac')));
    expect(m.batchItems[0]?.operation).toBe(Operation.MAC);
    expect(m.batchItems[0]?.payload?.tag).toBe(Tag.RequestPayload);
  });
});
