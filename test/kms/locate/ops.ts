import { expect } from 'vitest';
import { attr, AttributeName, type Attribute } from '../../../src/kmip/attributes.js';
import { CryptographicAlgorithm, ObjectType, ResultStatus } from '../../../src/kmip/enums.js';
import type { ResponseBatchItem } from '../../../src/kmip/message/response.js';
import { Operation } from '../../../src/kmip/operation-codes.js';
import { encodeAddAttributeRequest } from '../../../src/kmip/payloads/add-attribute.js';
import { decodeCreateResponse, encodeCreateRequest } from '../../../src/kmip/payloads/create.js';
import { encodeDeleteAttributeRequest } from '../../../src/kmip/payloads/delete-attribute.js';
import { decodeGetAttributesResponse, encodeGetAttributesRequest } from '../../../src/kmip/payloads/get-attributes.js';
import { decodeLocateResponse, encodeLocateRequest, type LocateRequest } from '../../../src/kmip/payloads/locate.js';
import { encodeModifyAttributeRequest } from '../../../src/kmip/payloads/modify-attribute.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/index.js';
import type { openHarness } from '../harness.js';

/** Small KMIP calls on a test harness (KeyServer on SQLite), one batch item each. */
export type Harness = Awaited<ReturnType<typeof openHarness>>;

export function ops(h: Pick<Harness, 'send'>, who = 'alice') {
  const one = async (operation: number, payload: TtlvItem): Promise<ResponseBatchItem> => {
    const r = await h.send(who, [{ operation, payload }], { version: { major: 1, minor: 4 } });
    const item = r.batchItems[0];
    if (item === undefined) throw new Error('no batch item');
    return item;
  };
  return {
    one,
    async create(extra: Attribute[] = [], bits = 128): Promise<string> {
      const r = await one(
        Operation.Create,
        encodeCreateRequest({
          objectType: ObjectType.SymmetricKey,
          templateAttribute: {
            templateNames: [],
            attributes: [attr.enumeration(AttributeName.CryptographicAlgorithm, CryptographicAlgorithm.AES), attr.int(AttributeName.CryptographicLength, bits), ...extra],
          },
        }),
      );
      expect(r.resultMessage).toBeUndefined();
      return decodeCreateResponse(r.payload).uniqueIdentifier;
    },
    async locate(req: Partial<LocateRequest> & { attributes: Attribute[] }): Promise<{ ids: readonly string[]; located?: number }> {
      const r = await one(Operation.Locate, encodeLocateRequest(req));
      expect(r.resultStatus).toBe(ResultStatus.Success);
      const d = decodeLocateResponse(r.payload);
      return { ids: d.uniqueIdentifiers, ...(d.locatedItems === undefined ? {} : { located: d.locatedItems }) };
    },
    add: (id: string, a: Attribute) => one(Operation.AddAttribute, encodeAddAttributeRequest({ uniqueIdentifier: id, attribute: a })),
    modify: (id: string, a: Attribute) => one(Operation.ModifyAttribute, encodeModifyAttributeRequest({ uniqueIdentifier: id, attribute: a })),
    del: (id: string, name: string, index?: number) =>
      one(Operation.DeleteAttribute, encodeDeleteAttributeRequest({ uniqueIdentifier: id, attributeName: name, ...(index === undefined ? {} : { attributeIndex: index }) })),
    async attributes(id: string, names: string[] = []): Promise<readonly Attribute[]> {
      const r = await one(Operation.GetAttributes, encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: names }));
      expect(r.resultStatus).toBe(ResultStatus.Success);
      return decodeGetAttributesResponse(r.payload).attributes;
    },
  };
}

/** (index, text) of each instance of a text attribute, as Get Attributes answers them. */
export function textInstances(attrs: readonly Attribute[], name: string): [number, string][] {
  return attrs.filter((a) => a.name === name).map((a) => [a.index ?? 0, a.value.type === 'TextString' ? a.value.value : '?']);
}
