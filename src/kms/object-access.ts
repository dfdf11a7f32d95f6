import { AttributeName } from '../kmip/attributes.js';
import { KmipError } from '../kmip/errors.js';
import { Tag } from '../kmip/tags.js';
import { ttlv } from '../kmip/ttlv/index.js';
import type { OpContext } from './context.js';
import { KmsError } from './errors.js';
import { serializeAttributes, setSingle, toManagedObject, type ManagedObject } from './managed-object.js';

/** The Unique Identifier of the request, or the batch's ID Placeholder. */
export function resolveUid(ctx: OpContext, uid: string | undefined): string {
  const id = uid ?? ctx.batch.idPlaceholder;
  if (id === undefined) throw new KmipError('KMIP_MISSING_FIELD', 'no Unique Identifier and no ID Placeholder in this batch');
  return id;
}

/** Loads an object the caller owns: Item Not Found if absent, Permission Denied if someone else's. */
export async function loadOwned(ctx: OpContext, uid: string | undefined): Promise<ManagedObject> {
  const id = resolveUid(ctx, uid);
  if (id.length > 256) throw new KmipError('KMIP_INVALID_FIELD', 'Unique Identifier longer than 256 characters');
  const record = await ctx.deps.store.get(id);
  if (record === undefined) throw new KmipError('KMIP_ITEM_NOT_FOUND', `no object with Unique Identifier ${id}`);
  if (record.owner !== ctx.identity) throw new KmipError('KMIP_PERMISSION_DENIED', `object ${id} belongs to another identity`);
  return toManagedObject(record);
}

// Each round of a contended object lets one writer through; generous, as rounds are cheap.
const MAX_RETRIES = 64;

/**
 * Read-modify-write with optimistic concurrency: `change` edits the attributes (and may replace
 * the sealed key); on a concurrent update the object is reloaded and `change` runs again.
 * Last Change Date is set on every change (KMIP 1.1 §3.32).
 */
export async function updateOwned(
  ctx: OpContext,
  uid: string | undefined,
  change: (obj: ManagedObject) => { sealedKey?: Buffer | null } | void,
): Promise<ManagedObject> {
  for (let attempt = 0; ; attempt++) {
    const obj = await loadOwned(ctx, uid);
    const result = change(obj) ?? {};
    setSingle(obj.attributes, AttributeName.LastChangeDate, ttlv.date(Tag.AttributeValue, ctx.deps.now()));
    try {
      const record = await ctx.deps.store.update(obj.record.id, obj.record.version, {
        attributes: serializeAttributes(obj.attributes),
        sealedKey: result.sealedKey === undefined ? obj.record.sealedKey : result.sealedKey,
      });
      return { record, attributes: obj.attributes };
    } catch (err) {
      if (err instanceof KmsError && err.code === 'STORE_CONFLICT' && attempt < MAX_RETRIES) continue;
      throw err;
    }
  }
}
