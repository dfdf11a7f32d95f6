import { expect } from 'vitest';
import type { Attribute } from '../../src/kmip/attributes.js';
import { ResultStatus } from '../../src/kmip/enums.js';
import { Operation } from '../../src/kmip/operation-codes.js';
import type { ObjectContent } from '../../src/kmip/objects/object-content.js';
import { decodeGetAttributesResponse, encodeGetAttributesRequest } from '../../src/kmip/payloads/get-attributes.js';
import { decodeGetObjectResponse, encodeGetRequest } from '../../src/kmip/payloads/get.js';
import { decodeRegisterResponse, encodeRegisterObjectRequest } from '../../src/kmip/payloads/register.js';
import { encodeDestroyRequest } from '../../src/kmip/payloads/destroy.js';
import type { openHarness } from './harness.js';

type H = Awaited<ReturnType<typeof openHarness>>;

/** Register/Get/attribute helpers over a harness, for the object-type tests (identity 'alice'). */
export function objectOps(h: () => H) {
  const ops = {
    async register(content: ObjectContent, attributes: Attribute[] = [], templateNames: string[] = []) {
      const r = await h().send('alice', [{ operation: Operation.Register, payload: encodeRegisterObjectRequest({ templateAttribute: { templateNames, attributes }, content }) }]);
      return r.batchItems[0];
    },
    async registered(content: ObjectContent, attributes: Attribute[] = [], templateNames: string[] = []): Promise<string> {
      const item = await ops.register(content, attributes, templateNames);
      expect(item?.resultMessage).toBeUndefined();
      expect(item?.resultStatus).toBe(ResultStatus.Success);
      return decodeRegisterResponse(item?.payload).uniqueIdentifier;
    },
    async get(id: string, keyFormatType?: number) {
      const r = await h().send('alice', [{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id, ...(keyFormatType === undefined ? {} : { keyFormatType }) }) }]);
      return r.batchItems[0];
    },
    async content(id: string, keyFormatType?: number): Promise<ObjectContent> {
      const item = await ops.get(id, keyFormatType);
      expect(item?.resultMessage).toBeUndefined();
      return decodeGetObjectResponse(item?.payload).content;
    },
    async attributes(id: string): Promise<readonly Attribute[]> {
      const r = await h().send('alice', [{ operation: Operation.GetAttributes, payload: encodeGetAttributesRequest({ uniqueIdentifier: id, attributeNames: [] }) }]);
      return decodeGetAttributesResponse(r.batchItems[0]?.payload).attributes;
    },
    async destroy(id: string) {
      const r = await h().send('alice', [{ operation: Operation.Destroy, payload: encodeDestroyRequest({ uniqueIdentifier: id }) }]);
      return r.batchItems[0];
    },
  };
  return ops;
}

export const valueOf = (attrs: readonly Attribute[], name: string): unknown => attrs.find((a) => a.name === name)?.value.value;
