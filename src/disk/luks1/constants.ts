/** LUKS1 on-disk constants (LUKS1 On-Disk Format Specification 1.2.3, §2–§3). */
export const LUKS_MAGIC = Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]);
export const LUKS_VERSION = 1;
export const PHDR_BYTES = 592;
export const SECTOR = 512;
export const KEYSLOTS = 8;
export const KEYSLOT_ENABLED = 0x00ac71f3;
export const KEYSLOT_DISABLED = 0x0000dead;
export const AF_STRIPES = 4000;
export const DIGEST_BYTES = 20;
export const SALT_BYTES = 32;
/** aes-xts-plain64 with AES-256: two 256-bit keys. */
export const MASTER_KEY_BYTES = 64;
/** First keyslot at 4 KiB; each keyslot area rounded up to 4 KiB (as cryptsetup and QEMU do). */
export const FIRST_KEYSLOT_SECTOR = 8;
export const KEYSLOT_ALIGN_SECTORS = 8;
/** Payload at 2 MiB like cryptsetup (QEMU writes 4040 sectors; we read any offset). */
export const PAYLOAD_OFFSET_SECTORS = 4096;
/**
 * PBKDF2-SHA256 iterations of a keyslot. The passphrase is the hex of a random 256-bit DEK, so
 * stretching adds no security; 20 000 keeps opening at a few ms in Node and in QEMU.
 */
export const DEFAULT_KEYSLOT_ITERATIONS = 20_000;
/** Master-key digest iterations: the LUKS1 minimum cryptsetup enforces. */
export const MK_DIGEST_ITERATIONS = 1000;
/**
 * Upper bound of one PBKDF2 iteration count (keyslot or master-key digest) we write or accept.
 * 2^24 ≈ 16.8 M: several times what `cryptsetup luksFormat` or QEMU's 2-second default calibrate
 * to on a fast CPU (a few million), so real headers pass; one such keyslot costs ~10–40 s here.
 */
export const MAX_ITERATIONS = 1 << 24;
/**
 * Upper bound of the PBKDF2 work one unlock may cost on a hostile header: the sum, over the active
 * keyslots, of (keyslot iterations × digest blocks per key + master-key digest iterations).
 * 2^26 block-iterations ≈ 20–40 s on this class of machine instead of the hours that 8 keyslots
 * at 2^32−1 iterations each would take.
 */
export const MAX_UNLOCK_WORK = 1 << 26;
