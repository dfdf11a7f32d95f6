import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import ts from 'typescript';
import type { ImportEdge } from './graph.js';

/**
 * Reads the imports of every .ts file under `root/dir` with TypeScript's own
 * pre-processor (static imports, `export … from`, `import('literal')`; comments
 * and strings are not mistaken for imports). Package imports are skipped: only
 * project-relative edges matter to the folder graph.
 */
export function readSourceImports(root: string, dir = 'src'): { files: SourceFile[]; edges: ImportEdge[] } {
  const files = listTs(root, dir).map((file) => {
    const text = readFileSync(posix.join(root, file), 'utf8');
    return { file, lines: countLines(text), text };
  });
  const edges = files.flatMap(({ file, text }) => importsOf(file, text));
  return { files: files.map(({ file, lines }) => ({ file, lines })), edges };
}

export interface SourceFile {
  readonly file: string;
  readonly lines: number;
}

export function importsOf(file: string, text: string): ImportEdge[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  const edges: ImportEdge[] = [];
  for (const ref of importedFiles) {
    if (!ref.fileName.startsWith('.')) continue;
    edges.push({
      file,
      line: lineAt(text, ref.pos),
      specifier: ref.fileName,
      target: resolveRelative(file, ref.fileName),
    });
  }
  return edges;
}

/** NodeNext specifiers name the emitted `.js`; the source beside it is `.ts`. */
export function resolveRelative(file: string, specifier: string): string {
  const joined = posix.normalize(posix.join(posix.dirname(file), specifier));
  return joined.endsWith('.js') ? `${joined.slice(0, -3)}.ts` : joined;
}

function listTs(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(posix.join(root, dir), { withFileTypes: true })) {
    const rel = posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTs(root, rel));
    else if (entry.isFile() && entry.name.endsWith('.ts')) out.push(rel);
  }
  return out.sort();
}

function lineAt(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos; i += 1) if (text.charCodeAt(i) === 10) line += 1;
  return line;
}

function countLines(text: string): number {
  if (text.length === 0) return 0;
  const newlines = text.split('\n').length - 1;
  return text.endsWith('\n') ? newlines : newlines + 1;
}
