import { AttributeName } from '../kmip/attributes.js';
import { KmipError } from '../kmip/errors.js';
import { Tag } from '../kmip/tags.js';
import { ttlv } from '../kmip/ttlv/index.js';
import type { OpContext } from './context.js';
import { KmsError } from './errors.js';
import { instancesOf, serializeAttributes, setSingle, toManagedObject, type ManagedObject } from './managed-object.js';

/** The Unique Identifier of the request, or the batch's ID Placeholder. */
export function resolveUid(ctx: OpContext, uid: string | undefined): string {
  const id = uid ?? ctx.batch.idPlaceholder;
  if (id === undefined) throw new KmipError('KMIP_MISSING_FIELD', 'no Unique Identifier and no ID Placeholder in this batch');
  return id;
}

/**
 * Custom attribute by which an owner lets another identity READ an object (Get, Get Attributes,
 * Get Attribute List, Locate): one instance per grantee, value = the grantee's identity.
 * Changes (attributes, lifecycle, Destroy) stay with the owner.
 */
export const GRANT_ATTRIBUTE = 'x-vmcrypt-grant';

/** True if `identity` may read `obj`: its owner, or named by a grant. */
export function mayRead(obj: ManagedObject, identity: string): boolean {
  if (obj.record.owner === identity) return true;
  return instancesOf(obj.attributes, GRANT_ATTRIBUTE).some((a) => a.value.type === 'TextString' && a.value.value === identity);
}

/**
 * Loads an object for the caller: Item Not Found if absent, Permission Denied unless the caller
 * owns it (`write`) or owns it or holds a grant (`read`).
 */
export async function loadOwned(ctx: OpContext, uid: string | undefined, access: 'read' | 'write' = 'write'): Promise<ManagedObject> {
  const id = resolveUid(ctx, uid);
  if (id.length > 256) throw new KmipError('KMIP_INVALID_FIELD', 'Unique Identifier longer than 256 characters');
  const record = await ctx.deps.store.get(id);
  if (record === undefined) throw new KmipError('KMIP_ITEM_NOT_FOUND', `no object with Unique Identifier ${id}`);
  if (record.owner === ctx.identity) return toManagedObject(record);
  const obj = toManagedObject(record);
  if (access === 'read' && mayRead(obj, ctx.identity)) return obj;
  throw new KmipError('KMIP_PERMISSION_DENIED', `object ${id} belongs to another identity`);
}

// Each round of a contended object lets one writer through; generous, as rounds are cheap.
const MAX_RETRIES = 64;

/**
 * Read-modify-write with optimistic concurrency: `change` edits the attributes (and may replace
 * the sealed key); on a concurrent update the object is reloaded and `change` runs again.
 * Last Change Date is set on every change (KMIP 1.1 §3.32). `read` access is for changes the server
 * makes on a reader's behalf (Fresh turning false when a grantee's Get is served). `loaded`: the
 * object as the caller just loaded it (with the same access), used for the first round.
 */
export async function updateOwned(
  ctx: OpContext,
  uid: string | undefined,
  change: (obj: ManagedObject) => { sealedKey?: Buffer | null } | void,
  access: 'read' | 'write' = 'write',
  loaded?: ManagedObject,
): Promise<ManagedObject> {
  for (let attempt = 0; ; attempt++) {
    const obj = attempt === 0 && loaded !== undefined ? loaded : await loadOwned(ctx, uid, access);
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
