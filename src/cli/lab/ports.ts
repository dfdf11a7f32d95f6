import { createServer } from 'node:net';

/** The lab's well-known ports, used when free (the tour's URLs then stay the same). */
export const DEFAULT_PORTS = {
  kms: 5696,
  manager: 9443,
  /** host-1 gets 9501, host-2 9502, … (the second manager 9444). */
  hostBase: 9500,
} as const;

/** Binds 127.0.0.1:port for a moment; 0 = let the OS choose. Resolves with the port, or undefined when busy. */
function tryBind(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.unref();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(a !== null && typeof a === 'object' ? a.port : undefined));
    });
  });
}

/**
 * `preferred` when it is free and not taken already, else one the OS picks. `taken` holds the
 * ports this lab chose so far: bound for a moment only, they still look free.
 */
export async function pickPort(preferred: number | undefined, taken: Set<number>): Promise<number> {
  if (preferred !== undefined && preferred !== 0 && !taken.has(preferred) && (await tryBind(preferred)) !== undefined) {
    taken.add(preferred);
    return preferred;
  }
  for (;;) {
    const p = await tryBind(0);
    if (p !== undefined && !taken.has(p)) {
      taken.add(p);
      return p;
    }
  }
}

export async function portIsFree(port: number): Promise<boolean> {
  return (await tryBind(port)) !== undefined;
}
