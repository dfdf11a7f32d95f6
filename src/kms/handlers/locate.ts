import { AttributeName, nameValueOf, type Attribute } from '../../kmip/attributes.js';
import { State } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { versionAtLeast } from '../../kmip/message/protocol-version.js';
import { decodeLocateRequest, encodeLocateResponse } from '../../kmip/payloads/locate.js';
import type { OperationHandler } from '../context.js';
import { instancesOf, sameValue, stateOf, toManagedObject } from '../managed-object.js';
import { GRANT_ATTRIBUTE, mayRead } from '../object-access.js';

const MAX_FILTERS = 64;

/**
 * Locate (KMIP 1.1 §4.9): the caller's (owned or granted) objects whose attributes match every given attribute.
 * Name matches on its text; two instances of a date attribute give an inclusive range
 * (§4.9); destroyed objects are found only when a State filter asks for them.
 * Maximum Items caps the answer; Offset Items and Located Items are KMIP 1.3+.
 */
export const handleLocate: OperationHandler = async (ctx, payload) => {
  const req = decodeLocateRequest(payload);
  if (req.attributes.length > MAX_FILTERS) throw new KmipError('KMIP_INVALID_FIELD', `more than ${MAX_FILTERS} attributes`);
  if (req.maximumItems !== undefined && req.maximumItems < 0) throw new KmipError('KMIP_INVALID_FIELD', 'negative Maximum Items');
  if (req.offsetItems !== undefined && req.offsetItems < 0) throw new KmipError('KMIP_INVALID_FIELD', 'negative Offset Items');
  const byName = new Map<string, Attribute[]>();
  for (const a of req.attributes) byName.set(a.name, [...(byName.get(a.name) ?? []), a]);
  const filterOnState = byName.has(AttributeName.State);

  const matched: string[] = [];
  // Own objects, then objects another identity granted read access to (x-vmcrypt-grant). Anyone
  // can grant a key to anyone: listing own objects first keeps a planted key (same Name, granted
  // to the caller) from shadowing the caller's own one under Maximum Items or the ID Placeholder.
  const granted: string[] = [];
  for (const record of await ctx.deps.store.list()) {
    if (record.owner !== ctx.identity && !record.attributes.includes(GRANT_ATTRIBUTE)) continue; // cheap pre-filter
    const obj = toManagedObject(record);
    if (!mayRead(obj, ctx.identity)) continue;
    if (!filterOnState) {
      const s = stateOf(obj.attributes);
      if (s === State.Destroyed || s === State.DestroyedCompromised) continue;
    }
    if (![...byName].every(([name, wanted]) => matches(obj.attributes, name, wanted))) continue;
    (record.owner === ctx.identity ? matched : granted).push(record.id);
  }
  matched.push(...granted);
  const offset = req.offsetItems ?? 0;
  const page = matched.slice(offset, req.maximumItems === undefined ? undefined : offset + req.maximumItems);
  if (page[0] !== undefined) ctx.batch.idPlaceholder = page[0];
  return {
    payload: encodeLocateResponse({
      ...(versionAtLeast(ctx.version, 1, 3) ? { locatedItems: matched.length } : {}),
      uniqueIdentifiers: page,
    }),
  };
};

function matches(attrs: readonly Attribute[], name: string, wanted: readonly Attribute[]): boolean {
  const have = instancesOf(attrs, name);
  const first = wanted[0];
  const second = wanted[1];
  if (wanted.length === 2 && first?.value.type === 'DateTime' && second?.value.type === 'DateTime') {
    const lo = first.value.value < second.value.value ? first.value.value : second.value.value;
    const hi = first.value.value < second.value.value ? second.value.value : first.value.value;
    return have.some((h) => h.value.type === 'DateTime' && h.value.value >= lo && h.value.value <= hi);
  }
  return wanted.every((w) =>
    have.some((h) => (name === AttributeName.Name ? nameValueOf(h) === nameValueOf(w) : sameValue(h.value, w.value))),
  );
}
