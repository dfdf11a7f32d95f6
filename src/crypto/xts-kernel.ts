/**
 * The per-block part of XTS (tweak α-multiplication and the two XORs) as a tiny WebAssembly
 * module, assembled here from its instructions (no binary blob, no build step). Plain JS over
 * Int32Arrays spends most of the XTS time in this pass; 64-bit integer WebAssembly does it with
 * two lanes instead of four and no bounds checks, and SIMD for the final XOR.
 *
 *   pass1(t0, d, t, units, blocksPerUnit): for every data unit u, T = t0[u];
 *       for each 16-byte block: d ^= T; t = T; T = T·α        (IEEE 1619 §5.2)
 *   pass2(o, t, d, bytes): d = o ^ t                          (16 bytes at a time)
 */

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'latin1')];

// Opcodes (WebAssembly core spec §5.4).
const I32 = 0x7f;
const I64 = 0x7e;
const op = {
  block: [0x02, 0x40], loop: [0x03, 0x40], end: [0x0b],
  br: (l: number) => [0x0c, ...uleb(l)], brIf: (l: number) => [0x0d, ...uleb(l)],
  get: (i: number) => [0x20, ...uleb(i)], set: (i: number) => [0x21, ...uleb(i)], tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)], i64: (v: number) => [0x42, ...sleb(v)],
  i32eqz: [0x45], i32add: [0x6a], i32sub: [0x6b],
  i64load: (off: number) => [0x29, 3, ...uleb(off)], i64store: (off: number) => [0x37, 3, ...uleb(off)],
  i64mul: [0x7e], i64or: [0x84], i64xor: [0x85], i64shl: [0x86], i64shrU: [0x88],
  v128load: [0xfd, 0x00, 4, 0], v128store: [0xfd, 0x0b, 4, 0], v128xor: [0xfd, 0x51],
};

const add = (local: number, n: number): number[] => [...op.get(local), ...op.i32(n), ...op.i32add, ...op.set(local)];

function pass1Body(): number[] {
  // params: 0 t0, 1 d, 2 t, 3 units, 4 blocksPerUnit; locals: 5 lo i64, 6 hi i64, 7 carry i64, 8 j i32
  const [t0, d, t, units, bpu, lo, hi, carry, j] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const code = [
    ...op.block, ...op.loop,
    ...op.get(units), ...op.i32eqz, ...op.brIf(1),
    ...op.get(t0), ...op.i64load(0), ...op.set(lo),
    ...op.get(t0), ...op.i64load(8), ...op.set(hi),
    ...op.get(bpu), ...op.set(j),
    ...op.loop,
    ...op.get(d), ...op.get(d), ...op.i64load(0), ...op.get(lo), ...op.i64xor, ...op.i64store(0),
    ...op.get(d), ...op.get(d), ...op.i64load(8), ...op.get(hi), ...op.i64xor, ...op.i64store(8),
    ...op.get(t), ...op.get(lo), ...op.i64store(0),
    ...op.get(t), ...op.get(hi), ...op.i64store(8),
    ...op.get(hi), ...op.i64(63), ...op.i64shrU, ...op.set(carry),
    ...op.get(hi), ...op.i64(1), ...op.i64shl, ...op.get(lo), ...op.i64(63), ...op.i64shrU, ...op.i64or, ...op.set(hi),
    ...op.get(lo), ...op.i64(1), ...op.i64shl, ...op.get(carry), ...op.i64(0x87), ...op.i64mul, ...op.i64xor, ...op.set(lo),
    ...add(d, 16), ...add(t, 16),
    ...op.get(j), ...op.i32(1), ...op.i32sub, ...op.tee(j), ...op.brIf(0),
    ...op.end,
    ...add(t0, 16),
    ...op.get(units), ...op.i32(1), ...op.i32sub, ...op.set(units),
    ...op.br(0),
    ...op.end, ...op.end,
    ...op.end,
  ];
  return [...vec([[...uleb(3), I64], [...uleb(1), I32]]), ...code];
}

function pass2Body(): number[] {
  // params: 0 o, 1 t, 2 d, 3 bytes
  const [o, t, d, n] = [0, 1, 2, 3];
  const code = [
    ...op.block, ...op.loop,
    ...op.get(n), ...op.i32eqz, ...op.brIf(1),
    ...op.get(d), ...op.get(o), ...op.v128load, ...op.get(t), ...op.v128load, ...op.v128xor, ...op.v128store,
    ...add(o, 16), ...add(t, 16), ...add(d, 16),
    ...op.get(n), ...op.i32(16), ...op.i32sub, ...op.set(n),
    ...op.br(0),
    ...op.end, ...op.end,
    ...op.end,
  ];
  return [...vec([]), ...code];
}

export function kernelBytes(pages: number): Uint8Array {
  const fn = (params: number[]): number[] => [0x60, ...vec(params.map((p) => [p])), ...vec([])];
  const bodies = [pass1Body(), pass2Body()].map((b) => [...uleb(b.length), ...b]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([fn([I32, I32, I32, I32, I32]), fn([I32, I32, I32, I32])])),
    ...section(3, vec([[0], [1]])),
    ...section(5, vec([[0x00, ...uleb(pages)]])),
    ...section(7, vec([[...name('pass1'), 0x00, 0], [...name('pass2'), 0x00, 1], [...name('mem'), 0x02, 0]])),
    ...section(10, vec(bodies)),
  ]);
}

export interface XtsKernel {
  readonly memory: Uint8Array;
  pass1(t0: number, d: number, t: number, units: number, blocksPerUnit: number): void;
  pass2(o: number, t: number, d: number, bytes: number): void;
}

/** The slice of the WebAssembly JS API we use (tsconfig's lib has no WebAssembly typings). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

/** Instantiates the kernel with `bytes` of linear memory, or undefined where WebAssembly/SIMD is unavailable. */
const compiled = new Map<number, object>();

export function createXtsKernel(bytes: number): XtsKernel | undefined {
  try {
    const pages = Math.ceil(bytes / 65536);
    const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
    if (wasm === undefined) return undefined;
    let module = compiled.get(pages);
    if (module === undefined) {
      module = new wasm.Module(kernelBytes(pages));
      compiled.set(pages, module);
    }
    const inst = new wasm.Instance(module);
    const ex = inst.exports as { pass1: XtsKernel['pass1']; pass2: XtsKernel['pass2']; mem: { buffer: ArrayBuffer } };
    return { memory: new Uint8Array(ex.mem.buffer), pass1: ex.pass1, pass2: ex.pass2 };
  } catch {
    return undefined;
  }
}
