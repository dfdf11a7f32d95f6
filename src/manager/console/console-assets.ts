import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagerError } from '../errors.js';

export interface ConsoleAsset {
  readonly type: string;
  readonly body: Buffer;
}

/** Only these kinds of file are served; anything else in the folder is ignored. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

const MAX_FILES = 200;
const MAX_FILE_BYTES = 2 * 1024 * 1024;
const MAX_DEPTH = 4;

/**
 * The folder holding the console's files. From the sources it sits beside this module; from
 * dist/ (tsc copies no assets) it is the package's own src/manager/console/public, which the
 * package ships (`files` in package.json), so a build and a source run serve the same bytes.
 */
export function consolePublicDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'public'), join(here, '..', '..', '..', 'src', 'manager', 'console', 'public')];
  const found = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (found === undefined) throw new ManagerError('MANAGER_INTERNAL', `web console files not found (looked in ${candidates.join(', ')})`);
  return found;
}

/**
 * Reads every servable file once, at start: requests are answered from this map, so a URL can
 * never name a path outside it (no traversal to guard) and nothing touches the disk per request.
 * Keys are URL paths relative to the folder, with forward slashes.
 */
export async function loadConsoleAssets(dir: string): Promise<ReadonlyMap<string, ConsoleAsset>> {
  const out = new Map<string, ConsoleAsset>();
  const walk = async (d: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) return;
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) {
        await walk(full, depth + 1);
        continue;
      }
      const type = CONTENT_TYPES[extname(entry.name)];
      if (!entry.isFile() || type === undefined) continue;
      if (out.size >= MAX_FILES) throw new ManagerError('MANAGER_INTERNAL', `web console: more than ${MAX_FILES} files in ${dir}`);
      if ((await stat(full)).size > MAX_FILE_BYTES) throw new ManagerError('MANAGER_INTERNAL', `web console: ${full} is over ${MAX_FILE_BYTES} bytes`);
      out.set(relative(dir, full).split(sep).join('/'), { type, body: await readFile(full) });
    }
  };
  await walk(dir, 0);
  if (!out.has('index.html')) throw new ManagerError('MANAGER_INTERNAL', `web console: no index.html in ${dir}`);
  return out;
}
