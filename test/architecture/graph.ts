/**
 * Pure checks over an import graph: which unit a file belongs to, which
 * unit-to-unit imports the allowed graph forbids, which units form a cycle.
 * No file system here, so the checks can be fed synthetic graphs in tests.
 */

/** One import statement: `file` (repo-relative) imports `target` at `line`. */
export interface ImportEdge {
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  readonly target: string;
}

/**
 * A unit owns the files matching one of its patterns: an exact file
 * (`src/errors.ts`) or a folder prefix ending in `/` (`src/kmip/`).
 * The most specific (longest) pattern wins, so `src/kmip/client/` beats `src/kmip/`.
 */
export interface UnitRule {
  readonly unit: string;
  readonly patterns: readonly string[];
}

/** `'*'` means the unit may import every unit. */
export type AllowedGraph = Readonly<Record<string, readonly string[] | '*'>>;

export interface ArchitectureSpec {
  readonly units: readonly UnitRule[];
  readonly allowed: AllowedGraph;
  /** Units every unit may import (the shared error base). */
  readonly everyoneMayImport: readonly string[];
}

export interface Violation {
  readonly kind: 'forbidden' | 'unmapped';
  readonly edge: ImportEdge;
  readonly from: string | undefined;
  readonly to: string | undefined;
}

export interface Cycle {
  /** Units in cycle order; the first unit is repeated implicitly at the end. */
  readonly units: readonly string[];
  /** One concrete import per hop, so the report names a file and line. */
  readonly edges: readonly ImportEdge[];
}

export function unitOf(file: string, units: readonly UnitRule[]): string | undefined {
  let best: { unit: string; length: number } | undefined;
  for (const rule of units) {
    for (const pattern of rule.patterns) {
      const matches = pattern.endsWith('/') ? file.startsWith(pattern) : file === pattern;
      if (matches && (best === undefined || pattern.length > best.length)) {
        best = { unit: rule.unit, length: pattern.length };
      }
    }
  }
  return best?.unit;
}

export function isAllowed(from: string, to: string, spec: ArchitectureSpec): boolean {
  if (from === to || spec.everyoneMayImport.includes(to)) return true;
  const allowed = spec.allowed[from];
  if (allowed === undefined) return false;
  return allowed === '*' || allowed.includes(to);
}

export function findViolations(edges: readonly ImportEdge[], spec: ArchitectureSpec): Violation[] {
  const out: Violation[] = [];
  for (const edge of edges) {
    const from = unitOf(edge.file, spec.units);
    const to = unitOf(edge.target, spec.units);
    if (from === undefined || to === undefined) {
      out.push({ kind: 'unmapped', edge, from, to });
    } else if (!isAllowed(from, to, spec)) {
      out.push({ kind: 'forbidden', edge, from, to });
    }
  }
  return out.sort((a, b) => byFileThenLine(a.edge, b.edge));
}

/** Cycles between units (self-imports are not cycles); one per strongly connected component. */
export function findCycles(edges: readonly ImportEdge[], units: readonly UnitRule[]): Cycle[] {
  const hops = new Map<string, Map<string, ImportEdge>>();
  for (const edge of [...edges].sort(byFileThenLine)) {
    const from = unitOf(edge.file, units);
    const to = unitOf(edge.target, units);
    if (from === undefined || to === undefined || from === to) continue;
    let out = hops.get(from);
    if (out === undefined) hops.set(from, (out = new Map()));
    if (!out.has(to)) out.set(to, edge);
  }
  const successors = (u: string): string[] => [...(hops.get(u)?.keys() ?? [])].sort();
  const cycles: Cycle[] = [];
  for (const component of stronglyConnected([...hops.keys()].sort(), successors)) {
    if (component.length < 2) continue;
    const members = new Set(component);
    const path = cycleThrough(component[0] as string, members, successors);
    const hopEdges = path.map((u, i) => {
      const v = path[(i + 1) % path.length] as string;
      return hops.get(u)?.get(v) as ImportEdge;
    });
    cycles.push({ units: path, edges: hopEdges });
  }
  return cycles;
}

/** Tarjan's algorithm; components come out with their members sorted. */
function stronglyConnected(nodes: readonly string[], successors: (u: string) => string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const visit = (u: string): void => {
    index.set(u, next);
    low.set(u, next);
    next += 1;
    stack.push(u);
    onStack.add(u);
    for (const v of successors(u)) {
      if (!index.has(v)) {
        visit(v);
        low.set(u, Math.min(low.get(u) as number, low.get(v) as number));
      } else if (onStack.has(v)) {
        low.set(u, Math.min(low.get(u) as number, index.get(v) as number));
      }
    }
    if (low.get(u) === index.get(u)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== u);
      components.push(component.sort());
    }
  };
  for (const u of nodes) if (!index.has(u)) visit(u);
  return components;
}

/** A shortest path start → … → start inside one component (breadth first). */
function cycleThrough(start: string, members: ReadonlySet<string>, successors: (u: string) => string[]): string[] {
  const parent = new Map<string, string>();
  const queue: string[] = [start];
  while (queue.length > 0) {
    const u = queue.shift() as string;
    for (const v of successors(u)) {
      if (!members.has(v)) continue;
      if (v === start) {
        const path = [u];
        for (let w = u; w !== start; ) {
          w = parent.get(w) as string;
          path.push(w);
        }
        return path.reverse();
      }
      if (!parent.has(v)) {
        parent.set(v, u);
        queue.push(v);
      }
    }
  }
  return [start];
}

export function formatEdge(edge: ImportEdge, from: string | undefined, to: string | undefined): string {
  return `${edge.file}:${edge.line} ${from ?? '(no unit)'} → ${to ?? '(no unit)'} (import '${edge.specifier}')`;
}

export function formatViolation(v: Violation): string {
  return formatEdge(v.edge, v.from, v.to);
}

export function formatCycle(cycle: Cycle, units: readonly UnitRule[]): string {
  const head = `cycle ${[...cycle.units, cycle.units[0]].join(' → ')}`;
  const lines = cycle.edges.map((e) => `  ${formatEdge(e, unitOf(e.file, units), unitOf(e.target, units))}`);
  return [head, ...lines].join('\n');
}

function byFileThenLine(a: ImportEdge, b: ImportEdge): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line;
}
