import { KmipError } from '../errors.js';
import { tagName } from '../tags.js';
import type { ItemTypeName, TtlvItem, TtlvOf } from './types.js';

/**
 * Typed access to the children of a decoded Structure. A field of the wrong type is an
 * Invalid Message; a missing required field too (KMIP 1.4 §11 "Missing Data" is for objects,
 * not message fields).
 */
export class Fields {
  readonly tag: number;
  readonly items: readonly TtlvItem[];

  constructor(item: TtlvItem, expectedTag?: number) {
    if (expectedTag !== undefined && item.tag !== expectedTag) {
      throw new KmipError('KMIP_INVALID_MESSAGE', `expected ${tagName(expectedTag)}, got ${tagName(item.tag)}`);
    }
    if (item.type !== 'Structure') {
      throw new KmipError('KMIP_INVALID_MESSAGE', `${tagName(item.tag)} must be a Structure, got ${item.type}`);
    }
    this.tag = item.tag;
    this.items = item.value;
  }

  /** Every child with `tag`, checked to be of `type`. */
  all<T extends ItemTypeName>(tag: number, type: T): TtlvOf<T>['value'][] {
    const out: TtlvOf<T>['value'][] = [];
    for (const it of this.items) {
      if (it.tag !== tag) continue;
      if (it.type !== type) {
        throw new KmipError('KMIP_INVALID_MESSAGE', `${tagName(tag)} in ${tagName(this.tag)} must be ${type}, got ${it.type}`);
      }
      out.push((it as TtlvOf<T>).value as TtlvOf<T>['value']);
    }
    return out;
  }

  optional<T extends ItemTypeName>(tag: number, type: T): TtlvOf<T>['value'] | undefined {
    const v = this.all(tag, type);
    if (v.length > 1) throw new KmipError('KMIP_INVALID_MESSAGE', `${tagName(tag)} appears ${v.length} times in ${tagName(this.tag)}`);
    return v[0];
  }

  required<T extends ItemTypeName>(tag: number, type: T): TtlvOf<T>['value'] {
    const v = this.optional(tag, type);
    if (v === undefined) throw new KmipError('KMIP_MISSING_FIELD', `${tagName(this.tag)} lacks ${tagName(tag)}`);
    return v;
  }

  /** The raw child item with `tag` (any type), if there is exactly one. */
  item(tag: number): TtlvItem | undefined {
    const v = this.items.filter((i) => i.tag === tag);
    if (v.length > 1) throw new KmipError('KMIP_INVALID_MESSAGE', `${tagName(tag)} appears ${v.length} times in ${tagName(this.tag)}`);
    return v[0];
  }

  structs(tag: number): Fields[] {
    return this.items.filter((i) => i.tag === tag).map((i) => new Fields(i));
  }

  struct(tag: number): Fields | undefined {
    const it = this.item(tag);
    return it === undefined ? undefined : new Fields(it);
  }

  requiredStruct(tag: number): Fields {
    const s = this.struct(tag);
    if (s === undefined) throw new KmipError('KMIP_MISSING_FIELD', `${tagName(this.tag)} lacks ${tagName(tag)}`);
    return s;
  }
}
