/*
 * AES-256-XTS kernels of the vmcrypt_xts addon (IEEE 1619-2007, plain64 tweak: the data unit
 * number as a little-endian 128-bit value). Data units are whole 16-byte blocks (LUKS sectors:
 * 512 bytes), so no ciphertext stealing is ever needed.
 *
 *   T   = AES-256-Enc(K2, le128(n))                  §5.3.1, one per data unit
 *   T_j = T · α^j  in GF(2^128) mod x^128+x^7+x^2+x+1 §5.2, block j of the unit
 *   C_j = AES-256-Enc(K1, P_j ⊕ T_j) ⊕ T_j            (decryption: AES-256-Dec(K1, ·))
 *
 * Two kernels, picked at run time: AES-NI (8 blocks in flight, 128-bit registers) and
 * VAES + AVX-512 (a 512-byte sector = 32 blocks = 8 zmm registers in flight, its 32 tweaks made
 * in vector registers). Each is compiled with a per-function target attribute, so the addon
 * builds with the default flags on any x86-64 and runs on CPUs without these instructions.
 */
#ifndef VMCRYPT_XTS_AES_H
#define VMCRYPT_XTS_AES_H

#include <stddef.h>
#include <stdint.h>

/* VMCRYPT_XTS_PORTABLE: build as on a non-x86 machine (OpenSSL path only), to check that build. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(VMCRYPT_XTS_PORTABLE)
#define VMCRYPT_XTS_X86 1
#endif

#define XTS_ROUNDS 14 /* AES-256 */

/* Round keys, 16-byte aligned: K1 encryption, K1 decryption (equivalent inverse cipher), K2. */
typedef struct {
  uint8_t enc1[XTS_ROUNDS + 1][16] __attribute__((aligned(16)));
  uint8_t dec1[XTS_ROUNDS + 1][16] __attribute__((aligned(16)));
  uint8_t enc2[XTS_ROUNDS + 1][16] __attribute__((aligned(16)));
} xts_keys;

#ifdef VMCRYPT_XTS_X86
/* 1 when the CPU (and OS) offer the kernel's instructions. */
int xts_aesni_usable(void);
int xts_vaes_usable(void);

/* Expands the 64-byte XTS key (K1 ‖ K2) into *k; needs AES-NI. */
void xts_aesni_expand(xts_keys *k, const uint8_t key[64]);

/*
 * En/decrypts len bytes from in to out (in == out: in place; otherwise the two must not overlap):
 * len / unit data units numbered first, first + 1, … unit is a multiple of 16; len a multiple of unit.
 */
void xts_aesni_crypt(const xts_keys *k, const uint8_t *in, uint8_t *out, size_t len, size_t unit, uint64_t first, int enc);
void xts_vaes_crypt(const xts_keys *k, const uint8_t *in, uint8_t *out, size_t len, size_t unit, uint64_t first, int enc);
#endif

#endif
