const UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** '64M', '1G', '1.5GiB', '4096' → bytes; undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (m === null) return undefined;
  const n = Math.round(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? Number.NaN));
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
