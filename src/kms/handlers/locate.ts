import { AttributeName } from '../../kmip/attributes.js';
import { StorageStatusMask } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { versionAtLeast } from '../../kmip/message/protocol-version.js';
import { decodeLocateRequest, encodeLocateResponse } from '../../kmip/payloads/locate.js';
import type { OperationHandler } from '../context.js';
import { indexedLocate } from '../locate-index/indexed-store.js';
import { LocateIndex, type LocateMatches, type LocateQuery } from '../locate-index/locate-index.js';
import type { KeyStore } from '../store/types.js';

const MAX_FILTERS = 64;

/**
 * Locate (KMIP 1.4 §4.9): the caller's (owned or granted) objects whose attributes match every
 * given attribute. Name matches on its text; two instances of a date attribute give an inclusive
 * range; Cryptographic Usage Mask matches objects having every bit asked for; any other attribute
 * (Object Type, algorithm, length, State, Object Group, Link, Unique Identifier, custom `x-`/`y-`)
 * by value. Destroyed objects are found only when a State filter asks for them. Every object is
 * online: a Storage Status Mask without Online Storage finds nothing. Answers newest first, own
 * objects before granted ones; Maximum Items caps the answer; Offset Items and Located Items are
 * KMIP 1.3+. Served from the store's Locate index (locate-index/) when it has one.
 */
export const handleLocate: OperationHandler = async (ctx, payload) => {
  const req = decodeLocateRequest(payload);
  if (req.attributes.length > MAX_FILTERS) throw new KmipError('KMIP_INVALID_FIELD', `more than ${MAX_FILTERS} attributes`);
  if (req.maximumItems !== undefined && req.maximumItems < 0) throw new KmipError('KMIP_INVALID_FIELD', 'negative Maximum Items');
  if (req.offsetItems !== undefined && req.offsetItems < 0) throw new KmipError('KMIP_INVALID_FIELD', 'negative Offset Items');
  const online = req.storageStatusMask === undefined || (req.storageStatusMask & StorageStatusMask.OnlineStorage) !== 0;
  const query: LocateQuery = {
    identity: ctx.identity,
    attributes: req.attributes,
    includeDestroyed: req.attributes.some((a) => a.name === AttributeName.State),
  };
  // Own objects, then objects another identity granted read access to (x-vmcrypt-grant). Anyone
  // can grant a key to anyone: listing own objects first keeps a planted key (same Name, granted
  // to the caller) from shadowing the caller's own one under Maximum Items or the ID Placeholder.
  const found = online ? await locateIn(ctx.deps.store, query) : { own: [], granted: [] };
  const matched = [...found.own, ...found.granted];
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

/** Through the store's index; a store without one (tests, tools) is indexed for this request. */
async function locateIn(store: KeyStore, q: LocateQuery): Promise<LocateMatches> {
  const indexed = indexedLocate(store);
  if (indexed !== undefined) return indexed(q);
  const once = new LocateIndex();
  for (const r of await store.list()) once.put(r);
  return once.locate(q);
}
