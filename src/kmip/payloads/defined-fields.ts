/**
 * `{ a: 1, b: undefined }` → `{ a: 1 }`: a decoded payload with its absent optional fields left
 * out rather than set to undefined (exactOptionalPropertyTypes).
 */
export function definedFields<T extends object>(o: { [K in keyof T]: T[K] | undefined }): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
