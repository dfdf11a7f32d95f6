import { stat } from 'node:fs/promises';
import type { DiskInfo } from './types.js';
import { openSource } from './preflight.js';
import { readHeader } from './luks1/file.js';
import { SECTOR } from './luks1/constants.js';
import type { LuksHeader } from './luks1/header.js';

export function describe(path: string, h: LuksHeader, fileSize: number, allocated: number): DiskInfo {
  return {
    path,
    format: 'luks1',
    cipher: `${h.cipherName}-${h.cipherMode}`,
    hash: h.hashSpec,
    masterKeyBits: h.keyBytes * 8,
    uuid: h.uuid,
    payloadOffsetBytes: h.payloadOffset * SECTOR,
    virtualSizeBytes: fileSize - h.payloadOffset * SECTOR,
    fileSizeBytes: fileSize,
    allocatedBytes: allocated,
    mkDigestIterations: h.mkDigestIterations,
    keyslots: h.keyslots.map((k, index) => ({
      index,
      active: k.active,
      iterations: k.iterations,
      keyMaterialOffsetSectors: k.keyMaterialOffset,
      stripes: k.stripes,
    })),
  };
}

/** Reads and validates the LUKS1 header of `path` (no key needed). */
export async function diskInfo(path: string): Promise<DiskInfo> {
  const fh = await openSource(path);
  try {
    const { header, fileSize } = await readHeader(fh);
    return describe(path, header, fileSize, (await stat(path)).blocks * 512);
  } finally {
    await fh.close();
  }
}
