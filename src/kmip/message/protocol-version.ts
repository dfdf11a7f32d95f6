import { Tag } from '../tags.js';
import { Fields, ttlv, type TtlvItem } from '../ttlv/index.js';

/** KMIP Protocol Version (KMIP 1.4 §6.1). */
export interface ProtocolVersion {
  readonly major: number;
  readonly minor: number;
}

/** Versions the vmcrypt server speaks, newest first (DiscoverVersions answers in this order). */
export const supportedVersions: readonly ProtocolVersion[] = [
  { major: 1, minor: 4 },
  { major: 1, minor: 3 },
  { major: 1, minor: 2 },
  { major: 1, minor: 1 },
  { major: 1, minor: 0 },
];

export function isSupportedVersion(v: ProtocolVersion): boolean {
  return supportedVersions.some((s) => s.major === v.major && s.minor === v.minor);
}

/** a >= b */
export function versionAtLeast(a: ProtocolVersion, major: number, minor: number): boolean {
  return a.major > major || (a.major === major && a.minor >= minor);
}

export function encodeProtocolVersion(v: ProtocolVersion): TtlvItem {
  return ttlv.struct(Tag.ProtocolVersion, [
    ttlv.int(Tag.ProtocolVersionMajor, v.major),
    ttlv.int(Tag.ProtocolVersionMinor, v.minor),
  ]);
}

export function decodeProtocolVersion(item: TtlvItem): ProtocolVersion {
  const f = new Fields(item, Tag.ProtocolVersion);
  return { major: f.required(Tag.ProtocolVersionMajor, 'Integer'), minor: f.required(Tag.ProtocolVersionMinor, 'Integer') };
}
