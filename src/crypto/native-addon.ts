import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What loading an optional addon gave: the addon, or why not (said by callers that fall back). */
export interface LoadedAddon<T> {
  addon: T | undefined;
  reason: string;
}

/**
 * Loads one of the optional N-API addons that `npm run build:native` makes (build/Release/NAME.node:
 * native/xts*.c, native/relay*.c). Not built (no compiler at install time), or `disabled` (an
 * environment switch, named in the reason), → no addon and the reason; the caller takes its
 * slower path. Callers cache the result (loading is once per thread).
 */
export function loadNativeAddon<T>(name: string, disabled?: string): LoadedAddon<T> {
  const file = join('build', 'Release', `${name}.node`);
  if (disabled !== undefined) return { addon: undefined, reason: `disabled by ${disabled}` };
  // src/crypto/ (tsx) or dist/crypto/ (built): two levels below the package root
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', '..', file);
  if (!existsSync(path)) return { addon: undefined, reason: `${file} not built (npm run build:native)` };
  try {
    return { addon: createRequire(import.meta.url)(path) as T, reason: 'loaded' };
  } catch (err) {
    return { addon: undefined, reason: `cannot load ${file}: ${err instanceof Error ? err.message : String(err)}` };
  }
}
