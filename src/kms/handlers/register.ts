import { wipeObjectContent } from '../../kmip/objects/object-content.js';
import { decodeRegisterObjectRequest, encodeRegisterResponse } from '../../kmip/payloads/register.js';
import type { OperationHandler } from '../context.js';
import { storeNewObject } from './new-object.js';
import { prepareRegistration } from './register-content.js';
import { resolveTemplateAttribute } from './template-names.js';

/**
 * Register (KMIP 1.4 §4.3): store a client-supplied object of any supported type (symmetric key,
 * secret data, opaque object, certificate, public/private key, split key, template; see
 * register-content.ts), with the attributes of its Template-Attribute (and of the templates it
 * names). Every byte received is zeroed before returning.
 */
export const handleRegister: OperationHandler = async (ctx, payload) => {
  const req = decodeRegisterObjectRequest(payload);
  try {
    const attrs = await resolveTemplateAttribute(ctx, req.templateAttribute);
    const { kind, plaintext } = prepareRegistration(req.content, attrs);
    try {
      const record = await storeNewObject(ctx, attrs, kind, plaintext);
      ctx.batch.idPlaceholder = record.id;
      return { objectId: record.id, payload: encodeRegisterResponse({ uniqueIdentifier: record.id }) };
    } finally {
      plaintext.fill(0);
    }
  } finally {
    wipeObjectContent(req.content);
  }
};
