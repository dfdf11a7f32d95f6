import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KmipError } from '../../src/kmip/errors.js';
import { ObjectType, SecretDataType } from '../../src/kmip/enums.js';
import { decodeRequestMessage, encodeRequestMessage } from '../../src/kmip/message/request.js';
import { Operation } from '../../src/kmip/operation-codes.js';
import { encodeRegisterObjectRequest } from '../../src/kmip/payloads/register.js';
import { decodeResponseMessage } from '../../src/kmip/message/response.js';
import { decodeTtlv, encodeTtlv } from '../../src/kmip/ttlv/index.js';
import type { KeyServer } from '../../src/kms/key-server.js';
import { repoRoot } from '../helpers/cli.js';

/** xorshift32: a seeded PRNG so a failing case can be replayed from its seed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** The valid messages mutations start from: every test vector, plus Register of secret data and of an opaque object. */
export function seedMessages(): Buffer[] {
  const vectors = JSON.parse(readFileSync(join(repoRoot, 'test', 'vectors', 'kmip', 'messages.json'), 'utf8')) as Array<{ hex: string }>;
  const register = (content: Parameters<typeof encodeRegisterObjectRequest>[0]['content']): Buffer =>
    encodeTtlv(
      encodeRequestMessage({
        header: { protocolVersion: { major: 1, minor: 2 }, batchCount: 1 },
        batchItems: [{ operation: Operation.Register, payload: encodeRegisterObjectRequest({ templateAttribute: { templateNames: [], attributes: [] }, content }) }],
      }),
    );
  return [
    ...vectors.map((v) => Buffer.from(v.hex, 'hex')),
    register({ objectType: ObjectType.SecretData, secretData: { secretDataType: SecretDataType.Password, value: Buffer.from('fuzz-password') } }),
    register({ objectType: ObjectType.OpaqueObject, opaqueObject: { opaqueDataType: 0x80000000, value: Buffer.from('fuzz-opaque') } }),
  ];
}

/** One random mutation: bit flip, byte set, length-field tweak, truncation, insertion, duplication. */
export function mutate(input: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(input);
  const at = (n: number): number => (n <= 0 ? 0 : rnd() % n);
  switch (rnd() % 7) {
    case 0: {
      const i = at(b.length);
      b[i] = (b[i] ?? 0) ^ (1 << at(8));
      return b;
    }
    case 1: {
      b[at(b.length)] = rnd() & 0xff;
      return b;
    }
    case 2: {
      // Rewrite a length field (items are 8-aligned, length at +4).
      const i = at(Math.floor(b.length / 8)) * 8 + 4;
      if (i + 4 <= b.length) b.writeUInt32BE([0, 1, 7, 8, 0xffffffff, rnd()][at(6)]! >>> 0, i);
      return b;
    }
    case 3:
      return b.subarray(0, at(b.length));
    case 4: {
      const i = at(b.length);
      const junk = Buffer.alloc(1 + at(24));
      for (let k = 0; k < junk.length; k++) junk[k] = rnd() & 0xff;
      return Buffer.concat([b.subarray(0, i), junk, b.subarray(i)]);
    }
    case 5: {
      // Change an item type byte.
      const i = at(Math.floor(b.length / 8)) * 8 + 3;
      if (i < b.length) b[i] = at(12);
      return b;
    }
    default: {
      const i = at(b.length);
      const j = i + at(b.length - i);
      return Buffer.concat([b, b.subarray(i, j)]);
    }
  }
}

export interface FuzzStats {
  cases: number;
  decoded: number;
  rejected: number;
}

/**
 * Runs `count` mutated messages through the decoder, the message decoders and (if given) the key
 * server. Throws on anything but a KmipError from the codec, or a server answer that is not a
 * decodable Response Message.
 */
export async function fuzz(count: number, seed: number, server?: KeyServer): Promise<FuzzStats> {
  const seeds = seedMessages();
  const rnd = prng(seed);
  const stats: FuzzStats = { cases: 0, decoded: 0, rejected: 0 };
  for (let n = 0; n < count; n++) {
    let msg = seeds[rnd() % seeds.length]!;
    const rounds = 1 + (rnd() % 3);
    for (let r = 0; r < rounds; r++) msg = mutate(msg, rnd);
    stats.cases++;
    try {
      const item = decodeTtlv(msg);
      try {
        decodeRequestMessage(item);
      } catch (err) {
        if (!(err instanceof KmipError)) throw err;
      }
      try {
        decodeResponseMessage(item);
      } catch (err) {
        if (!(err instanceof KmipError)) throw err;
      }
      stats.decoded++;
    } catch (err) {
      if (!(err instanceof KmipError)) {
        throw new Error(`case ${n} (seed ${seed}): ${String(err)} on ${msg.toString('hex')}`);
      }
      stats.rejected++;
    }
    if (server !== undefined) {
      const resp = await server.handleMessage('fuzzer', msg);
      try {
        decodeResponseMessage(decodeTtlv(resp));
      } catch (err) {
        throw new Error(`case ${n} (seed ${seed}): server answer undecodable (${String(err)}) for ${msg.toString('hex')}`);
      }
    }
  }
  return stats;
}
