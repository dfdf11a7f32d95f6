import { readFile } from 'node:fs/promises';
import { Tag } from '../../../src/kmip/tags.js';
import { decodeTtlv, encodeTtlv, type TtlvItem } from '../../../src/kmip/ttlv/index.js';
import { compareResponse } from './compare.js';
import { enumName, enumValue, tagOf } from './kmip-names.js';
import { parseXml, type XmlNode } from './xml.js';
import { toTtlv, type Bindings } from './xml-ttlv.js';

/** One request/response exchange of a test case and what differed. */
export interface StepResult {
  readonly step: number;
  readonly operations: readonly string[];
  readonly diffs: readonly string[];
}

export interface ReplayResult {
  readonly file: string;
  readonly steps: readonly StepResult[];
  /** True when every response matched. */
  readonly ok: boolean;
}

/** Sends one encoded request and returns the encoded response. */
export type Exchange = (request: Buffer) => Promise<Buffer>;

const OP = {
  Create: 0x01,
  Register: 0x03,
  Encrypt: 0x1f,
  Query: 0x18,
  CreateKeyPair: 0x02,
  DeriveKey: 0x05,
  ReKey: 0x07,
  ReKeyKeyPair: 0x1d,
  RNGRetrieve: 0x25,
} as const;
const GENERATING = new Set<number>([OP.Create, OP.CreateKeyPair, OP.DeriveKey, OP.ReKey, OP.ReKeyKeyPair]);
/**
 * Placeholders some cases use in a request without binding them in a response ($MAC_DATA in
 * CS-AC-M-6): by convention the value of that field in the latest response.
 */
const CONVENTIONAL: readonly (readonly [string, number])[] = [
  ['MAC_DATA', tagOf('MACData')],
  ['SIGNATURE_DATA', tagOf('SignatureData')],
  ['IV_COUNTER_NONCE', tagOf('IVCounterNonce')],
  ['CORRELATION_VALUE', tagOf('CorrelationValue')],
];
const PUBLIC_KEY = 0x03; // Object Type
/** Public keys registered in this run (module-wide: ids are unique per server). */
const publicKeys = new Set<string>();
const UID_TAGS = new Set<number>([Tag.UniqueIdentifier, Tag.PrivateKeyUniqueIdentifier, Tag.PublicKeyUniqueIdentifier]);

function* items(t: TtlvItem): Generator<TtlvItem> {
  yield t;
  if (t.type === 'Structure') for (const c of t.value) yield* items(c);
}

const uidsIn = (t: TtlvItem): string[] => [...items(t)].filter((i) => UID_TAGS.has(i.tag) && i.type === 'TextString').map((i) => i.value as string);
const operationsIn = (t: TtlvItem): number[] => [...items(t)].filter((i) => i.tag === Tag.Operation && i.type === 'Enumeration').map((i) => i.value as number);
const batchItems = (t: TtlvItem): TtlvItem[] => (t.type === 'Structure' ? t.value.filter((c) => c.tag === Tag.BatchItem) : []);

/**
 * Replays an OASIS KMIP XML test case: every RequestMessage in order, each answer compared with
 * the ResponseMessage that follows it (compare.ts says what is not compared). Keys the server
 * generated (Create, Create Key Pair, Derive Key, Re-key) have random bytes: responses about them
 * are compared without their ByteStrings, as are RNG Retrieve answers and Encrypt answers with
 * a public key (RSA OAEP and PKCS#1 v1.5 encryption are randomized).
 */
export async function replayFile(path: string, exchange: Exchange, opts: { label?: string; generated?: Set<string> } = {}): Promise<ReplayResult> {
  const label = opts.label ?? path;
  const root = parseXml(await readFile(path, 'utf8'));
  if (root.name !== 'KMIP') throw new Error(`${label}: root is <${root.name}>, not <KMIP>`);
  const vars: Bindings = new Map();
  // Ids of keys the server generated: shared by the cases of one series (TL-M-3 reads TL-M-2's key).
  const generated = opts.generated ?? new Set<string>();
  const steps: StepResult[] = [];
  const msgs = root.children;
  const usedOps = new Set(msgs.filter((m) => m.name === 'RequestMessage').flatMap((m) => operationsIn(toTtlvShape(m))));
  for (let i = 0, step = 1; i < msgs.length; i += 2, step++) {
    const req = msgs[i];
    const exp = msgs[i + 1];
    if (req?.name !== 'RequestMessage' || exp?.name !== 'ResponseMessage') {
      throw new Error(`${label}: message ${i + 1} is not a RequestMessage followed by a ResponseMessage`);
    }
    steps.push(await runStep(step, req, exp, exchange, vars, generated, usedOps));
  }
  return { file: label, steps, ok: steps.every((s) => s.diffs.length === 0) };
}

async function runStep(
  step: number,
  req: XmlNode,
  exp: XmlNode,
  exchange: Exchange,
  vars: Bindings,
  generated: Set<string>,
  usedOps: ReadonlySet<number>,
): Promise<StepResult> {
  let request: TtlvItem;
  try {
    request = toTtlv(req, vars);
  } catch (err) {
    return { step, operations: [], diffs: [`request: ${(err as Error).message}`] };
  }
  const operations = operationsIn(request).map((op) => enumName('Operation', op));
  const response = decodeTtlv(await exchange(encodeTtlv(request)), { maxMessageSize: 16 * 1024 * 1024 });
  for (const bi of batchItems(response)) {
    const op = operationsIn(bi)[0];
    if (op !== undefined && GENERATING.has(op)) for (const u of uidsIn(bi)) generated.add(u);
  }
  const reqItems = batchItems(request);
  batchItems(response).forEach((bi, i) => {
    // RSA encryption (OAEP, PKCS#1 v1.5) is randomized (RFC 8017 §7): remember public keys.
    const rq = reqItems[i];
    if (rq !== undefined && operationsIn(bi)[0] === OP.Register && [...items(rq)].some((t) => t.tag === Tag.ObjectType && t.value === PUBLIC_KEY)) {
      for (const u of uidsIn(bi)) publicKeys.add(u);
    }
  });
  const mentioned = [...uidsIn(request), ...uidsIn(response)];
  const randomized = operationsIn(request).includes(OP.Encrypt) && uidsIn(request).some((u) => publicKeys.has(u));
  // Encrypt without an IV from the client under a key whose parameters say Random IV (KMIP 1.4
  // §9.1.3.2.13): the server drew the IV, so the IV and ciphertext differ per run (CS-BC-M-13).
  const serverIv =
    reqItems.some((rq) => operationsIn(rq)[0] === OP.Encrypt && ![...items(rq)].some((t) => t.tag === Tag.IVCounterNonce)) &&
    [...items(response)].some((t) => t.tag === Tag.IVCounterNonce);
  const variableBytes = mentioned.some((u) => generated.has(u)) || operationsIn(request).includes(OP.RNGRetrieve) || randomized || serverIv;
  const diffs = compareResponse(exp, response, { vars, variableBytes });
  // Such a case then sends the ciphertext back as $DATA_0 without binding it in a response.
  const data = [...items(response)].filter((i) => i.tag === Tag.Data).pop();
  if (serverIv && data !== undefined && !vars.has('DATA_0')) vars.set('DATA_0', data.value);
  for (const [name, tag] of CONVENTIONAL) {
    const last = [...items(response)].filter((i) => i.tag === tag).pop();
    if (last !== undefined) vars.set(name, last.value);
  }
  for (const bi of batchItems(response)) {
    if (operationsIn(bi)[0] !== OP.Query) continue;
    const listed = new Set(bi.type === 'Structure' ? operationsIn(bi.value.find((c) => c.tag === Tag.ResponsePayload) ?? bi).slice(0) : []);
    for (const op of usedOps) if (!listed.has(op)) diffs.push(`Query: the answer does not list ${enumName('Operation', op)}, which this test case uses`);
  }
  if (diffs.length > 0) diffs.push(...failuresIn(response));
  return { step, operations, diffs };
}

/** The Result Reason and Message of every failed batch item, to explain a difference. */
function failuresIn(response: TtlvItem): string[] {
  return batchItems(response).flatMap((bi) => {
    const f = bi.type === 'Structure' ? bi.value : [];
    const reason = f.find((i) => i.tag === Tag.ResultReason);
    const message = f.find((i) => i.tag === Tag.ResultMessage);
    if (reason === undefined) return [];
    return [`(server said: ${enumName('ResultReason', reason.value as number)}: ${String(message?.value ?? '')})`];
  });
}


/** The operations of a request, read without resolving its placeholders. */
function toTtlvShape(m: XmlNode): TtlvItem {
  const ops = m.children.filter((b) => b.name === 'BatchItem').flatMap((b) => b.children.filter((c) => c.name === 'Operation'));
  return { tag: 0, type: 'Structure', value: ops.map((o) => ({ tag: Tag.Operation, type: 'Enumeration', value: enumValue('Operation', o.attrs['value'] ?? '') })) };
}
