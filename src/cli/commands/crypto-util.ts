import { resolve } from 'node:path';
import type { CliIo, CommandGroup } from '../command.js';
import { parseCommandArgs, requireOption } from '../args.js';
import { UsageError } from '../../errors.js';
import { decryptCoreDump, recryptCoreDump } from '../../host/keys/coredump.js';
import { fetchKey, type KeySource } from '../key-source.js';
import { readSealedHeader } from '../../host/keys/sealed-stream.js';
import { validateKeyId } from '../../host/keys/key-cache.js';
import { groupSummary } from './summaries.js';

const KEY_FLAGS = '(--key-file FILE | --kms HOST:PORT --cert PEM --key PEM --ca PEM [--server-name NAME] [--key-id ID])';
const DECRYPT_USAGE = `vmcrypt crypto-util coredump decrypt FILE --out OUT ${KEY_FLAGS} [--json]`;
const RECRYPT_USAGE = `vmcrypt crypto-util coredump recrypt FILE ${KEY_FLAGS} --new-key-id ID [--new-key-file FILE] [--json]`;
const INFO_USAGE = 'vmcrypt crypto-util coredump info FILE [--json]';

const keyOptions = {
  'key-file': { type: 'string' },
  kms: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  ca: { type: 'string' },
  'server-name': { type: 'string' },
  'key-id': { type: 'string' },
  json: { type: 'boolean' },
} as const;

type KeyValues = { [K in keyof typeof keyOptions]?: string | boolean | undefined };

/**
 * The key that sealed a dump: from a key file, or fetched from the key provider by id over
 * KMIP with the operator's client certificate (default id: the one in the dump header).
 */
function keySourceOf(v: KeyValues, defaultKeyId: string, usage: string): KeySource {
  if (typeof v['key-file'] === 'string') return { kind: 'file', path: v['key-file'] };
  if (typeof v.kms !== 'string') throw new UsageError(`give --key-file or --kms\nusage: ${usage}`);
  return kmipSource(v, typeof v['key-id'] === 'string' ? v['key-id'] : defaultKeyId, usage);
}

function kmipSource(v: KeyValues, keyId: string, usage: string): KeySource {
  const m = /^(.+):(\d{1,5})$/.exec(typeof v.kms === 'string' ? v.kms : '');
  if (m?.[1] === undefined) throw new UsageError(`--kms must be HOST:PORT\nusage: ${usage}`);
  return {
    kind: 'kmip',
    host: m[1],
    port: Number(m[2]),
    certFile: requireOption(v.cert, '--cert', usage),
    keyFile: requireOption(v.key, '--key', usage),
    caFile: requireOption(v.ca, '--ca', usage),
    keyId: validateKeyId(keyId, 'key id'),
    ...(typeof v['server-name'] === 'string' ? { serverName: v['server-name'] } : {}),
  };
}

async function decrypt(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { ...keyOptions, out: { type: 'string' } }, DECRYPT_USAGE);
  const file = positionals[0];
  if (file === undefined) throw new UsageError(`missing FILE\nusage: ${DECRYPT_USAGE}`);
  const out = resolve(requireOption(values.out, '--out', DECRYPT_USAGE));
  const { header } = await readSealedHeader(file);
  const key = await fetchKey(keySourceOf(values, header.keyId, DECRYPT_USAGE));
  try {
    await decryptCoreDump(file, key, out);
  } finally {
    key.fill(0);
  }
  if (values.json === true) io.out(JSON.stringify({ file, out, kind: header.kind, keyId: header.keyId }));
  else io.out(`decrypted ${file} (${header.kind}, host key ${header.keyId}) to ${out}`);
  return 0;
}

async function recrypt(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { ...keyOptions, 'new-key-id': { type: 'string' }, 'new-key-file': { type: 'string' } }, RECRYPT_USAGE);
  const file = positionals[0];
  if (file === undefined) throw new UsageError(`missing FILE\nusage: ${RECRYPT_USAGE}`);
  const newKeyId = validateKeyId(requireOption(values['new-key-id'], '--new-key-id', RECRYPT_USAGE), '--new-key-id');
  const { header } = await readSealedHeader(file);
  const oldKey = await fetchKey(keySourceOf(values, header.keyId, RECRYPT_USAGE));
  try {
    const newSource: KeySource =
      typeof values['new-key-file'] === 'string' ? { kind: 'file', path: values['new-key-file'] } : kmipSource(values, newKeyId, RECRYPT_USAGE);
    const newKey = await fetchKey(newSource);
    try {
      await recryptCoreDump(file, oldKey, newKey, newKeyId);
    } finally {
      newKey.fill(0);
    }
  } finally {
    oldKey.fill(0);
  }
  if (values.json === true) io.out(JSON.stringify({ file, oldKeyId: header.keyId, newKeyId }));
  else io.out(`re-encrypted ${file}: host key ${header.keyId} -> ${newKeyId}`);
  return 0;
}

async function info(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, INFO_USAGE);
  const file = positionals[0];
  if (file === undefined) throw new UsageError(`missing FILE\nusage: ${INFO_USAGE}`);
  const { header } = await readSealedHeader(file);
  if (values.json === true) io.out(JSON.stringify(header));
  else for (const [k, v] of Object.entries(header)) io.out(`${k}: ${String(v)}`);
  return 0;
}

export const cryptoUtilCommands: CommandGroup = {
  name: 'crypto-util',
  summary: groupSummary('crypto-util'),
  async run(args, io) {
    const [group, verb, ...rest] = args;
    if (group === undefined || group === '--help' || group === '-h') {
      io.out(['usage:', `  ${DECRYPT_USAGE}`, `  ${RECRYPT_USAGE}`, `  ${INFO_USAGE}`].join('\n'));
      return group === undefined ? 2 : 0;
    }
    if (group !== 'coredump') throw new UsageError(`unknown command 'crypto-util ${group}'\nusage: ${DECRYPT_USAGE}`);
    switch (verb) {
      case 'decrypt': return decrypt(rest, io);
      case 'recrypt': return recrypt(rest, io);
      case 'info': return info(rest, io);
      default: throw new UsageError(`unknown command 'crypto-util coredump ${verb ?? ''}'\nusage: ${DECRYPT_USAGE}`);
    }
  },
};
