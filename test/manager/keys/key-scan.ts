import { readdir, readFile, lstat } from 'node:fs/promises';
import { join } from 'node:path';

/** Every file under `dir` (recursively), as bytes. */
export async function filesUnder(dir: string): Promise<Array<{ path: string; bytes: Buffer }>> {
  const out: Array<{ path: string; bytes: Buffer }> = [];
  for (const e of await readdir(dir)) {
    const p = join(dir, e);
    const st = await lstat(p);
    if (st.isDirectory()) out.push(...(await filesUnder(p)));
    else if (st.isFile()) out.push({ path: p, bytes: await readFile(p) });
  }
  return out;
}

/** The encodings a key could leak in: raw, hex (both cases), base64 and base64url. */
export function keyForms(key: Buffer): Buffer[] {
  const hex = key.toString('hex');
  return [key, Buffer.from(hex), Buffer.from(hex.toUpperCase()), Buffer.from(key.toString('base64')), Buffer.from(key.toString('base64url'))];
}

/** Where any form of any key occurs: "path (form n)". */
export function scanForKeys(files: ReadonlyArray<{ path: string; bytes: Buffer }>, keys: readonly Buffer[]): string[] {
  const hits: string[] = [];
  for (const f of files) {
    keys.forEach((k, ki) => {
      keyForms(k).forEach((form, fi) => {
        if (f.bytes.includes(form)) hits.push(`${f.path}: key ${ki} form ${fi}`);
      });
    });
  }
  return hits;
}
