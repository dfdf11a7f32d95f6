import { AttributeName as A, type Attribute } from '../../kmip/attributes.js';
import { KmipError } from '../../kmip/errors.js';
import { Tag } from '../../kmip/tags.js';
import { Fields, ttlv, type TtlvItem } from '../../kmip/ttlv/index.js';
import type { OpContext } from '../context.js';
import { firstValue, setSingle, type ManagedObject } from '../managed-object.js';
import { updateOwned } from '../object-access.js';

/**
 * Usage Limits (KMIP 1.4 §3.21): a client gives a Total and a Unit (Byte or Object) when it
 * creates or registers a key; the server keeps the Count of what is left (starting at the Total,
 * whatever Count the client sent) and takes from it on each use that applies protection — Encrypt,
 * Sign, MAC — before doing the work. A use the Count cannot cover is Permission Denied and takes nothing.
 */
export const UsageLimitsUnit = { Byte: 0x01, Object: 0x02 } as const;

interface Limits {
  readonly total: bigint;
  readonly count: bigint;
  readonly unit: number;
}

function decodeLimits(v: TtlvItem): Limits {
  const f = new Fields(v);
  const total = f.required(Tag.UsageLimitsTotal, 'LongInteger');
  const unit = f.required(Tag.UsageLimitsUnit, 'Enumeration');
  const count = f.optional(Tag.UsageLimitsCount, 'LongInteger') ?? total;
  return { total, count, unit };
}

function encodeLimits(l: Limits): TtlvItem {
  return ttlv.struct(Tag.AttributeValue, [
    ttlv.long(Tag.UsageLimitsTotal, l.total),
    ttlv.long(Tag.UsageLimitsCount, l.count),
    ttlv.enumeration(Tag.UsageLimitsUnit, l.unit),
  ]);
}

/** Checks a new object's Usage Limits from the client and starts its Count at the Total. */
export function startUsageLimits(attrs: Attribute[]): void {
  const v = firstValue(attrs, A.UsageLimits);
  if (v === undefined) return;
  const l = decodeLimits(v);
  if (l.total <= 0n) throw new KmipError('KMIP_INVALID_FIELD', 'Usage Limits Total must be positive');
  if (l.unit !== UsageLimitsUnit.Byte && l.unit !== UsageLimitsUnit.Object) throw new KmipError('KMIP_INVALID_FIELD', `Usage Limits Unit ${l.unit} is not defined`);
  setSingle(attrs, A.UsageLimits, encodeLimits({ ...l, count: l.total }));
}

/** True if the key has Usage Limits (a use then writes its new Count). */
export function hasUsageLimits(obj: ManagedObject): boolean {
  return firstValue(obj.attributes, A.UsageLimits) !== undefined;
}

/**
 * Takes one use of `bytes` bytes from the key's Usage Limits Count (nothing to do without Usage
 * Limits). Atomic with the store's optimistic concurrency: two uses cannot both take the last bytes.
 */
export async function consumeUsage(ctx: OpContext, obj: ManagedObject, bytes: number, operation: string): Promise<void> {
  if (!hasUsageLimits(obj)) return;
  await updateOwned(
    ctx,
    obj.record.id,
    (o) => {
      const v = firstValue(o.attributes, A.UsageLimits);
      if (v === undefined) return;
      const l = decodeLimits(v);
      const need = l.unit === UsageLimitsUnit.Byte ? BigInt(bytes) : 1n;
      if (l.count < need) throw new KmipError('KMIP_PERMISSION_DENIED', `${operation}: the key's Usage Limits are used up`);
      setSingle(o.attributes, A.UsageLimits, encodeLimits({ ...l, count: l.count - need }));
    },
    'read',
  );
}
