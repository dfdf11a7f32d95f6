/*
 * VAES + AVX-512 kernel of the vmcrypt_xts addon: a 512-byte sector is 32 AES blocks = 8 zmm
 * registers of 4 blocks, all 8 in flight through the 14 rounds (VAESENC on a zmm does 4 blocks
 * per instruction). The 32 tweaks T·α^0 … T·α^31 come straight from T in vector registers:
 * multiplying by α^s is a 128-bit shift left by s bits, and for s ≤ 57 the s bits shifted out,
 * o, fold back as o·(x^7 + x^2 + x + 1) = o ⊕ o<<1 ⊕ o<<2 ⊕ o<<7 — no carry chain between blocks.
 * The first tweaks of 4 sectors are one zmm through AES with K2. See xts-aes.h.
 */
#include "xts-aes.h"

#ifdef VMCRYPT_XTS_X86
#include <immintrin.h>

#define VAES __attribute__((target("aes,sse4.1,vaes,avx512f,avx512bw")))
#define SECTOR 512

int xts_vaes_usable(void) {
  __builtin_cpu_init();
  /* libgcc's answers for avx512* also check that the OS saves the zmm state (XCR0). */
  return __builtin_cpu_supports("aes") && __builtin_cpu_supports("vaes") && __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512bw");
}

static inline VAES __m512i key512(const uint8_t rk[16]) {
  return _mm512_broadcast_i32x4(_mm_load_si128((const __m128i *)rk));
}

/* t · α^s per 128-bit lane, s given per 64-bit half (both halves of a lane equal), s ≤ 57. */
static inline VAES __m512i mul_alpha_s(__m512i t, __m512i s, __m512i s_out) {
  __m512i shifted = _mm512_sllv_epi64(t, s);
  __m512i out = _mm512_srlv_epi64(t, s_out); /* bits leaving each half; a count of 64 gives 0 */
  __m512i over = _mm512_bsrli_epi128(out, 8); /* left the lane: fold with x^128 = x^7+x^2+x+1 */
  __m512i fold = _mm512_xor_si512(_mm512_xor_si512(over, _mm512_slli_epi64(over, 1)),
                                  _mm512_xor_si512(_mm512_slli_epi64(over, 2), _mm512_slli_epi64(over, 7)));
  return _mm512_xor_si512(_mm512_xor_si512(shifted, _mm512_bslli_epi128(out, 8)), fold);
}

/* The 32 tweaks of one sector from its first tweak t. */
static inline VAES void sector_tweaks(__m128i t, __m512i tw[8]) {
  __m512i b = _mm512_broadcast_i32x4(t);
  for (int k = 0; k < 8; k++) {
    long long s = 4 * k;
    __m512i cnt = _mm512_set_epi64(s + 3, s + 3, s + 2, s + 2, s + 1, s + 1, s, s);
    __m512i out = _mm512_sub_epi64(_mm512_set1_epi64(64), cnt);
    tw[k] = mul_alpha_s(b, cnt, out);
  }
}

/* One 512-byte sector from in to out (may be equal), its 32 tweaks in tw. */
static inline VAES void sector(const uint8_t (*rk)[16], const uint8_t *in, uint8_t *out, const __m512i tw[8], int enc) {
  __m512i x[8];
  __m512i key = key512(rk[0]);
  for (int k = 0; k < 8; k++) x[k] = _mm512_ternarylogic_epi64(_mm512_loadu_si512(in + 64 * k), tw[k], key, 0x96);
  if (enc) {
    for (int r = 1; r < XTS_ROUNDS; r++) {
      key = key512(rk[r]);
      for (int k = 0; k < 8; k++) x[k] = _mm512_aesenc_epi128(x[k], key);
    }
    key = key512(rk[XTS_ROUNDS]);
    for (int k = 0; k < 8; k++) x[k] = _mm512_aesenclast_epi128(x[k], key);
  } else {
    for (int r = 1; r < XTS_ROUNDS; r++) {
      key = key512(rk[r]);
      for (int k = 0; k < 8; k++) x[k] = _mm512_aesdec_epi128(x[k], key);
    }
    key = key512(rk[XTS_ROUNDS]);
    for (int k = 0; k < 8; k++) x[k] = _mm512_aesdeclast_epi128(x[k], key);
  }
  for (int k = 0; k < 8; k++) _mm512_storeu_si512(out + 64 * k, _mm512_xor_si512(x[k], tw[k]));
}

/* AES-256-Enc(K2, le128(n + i)) for the 4 lanes i = 0..3. */
static inline VAES __m512i first_tweaks4(const xts_keys *k, uint64_t n) {
  __m512i t = _mm512_set_epi64(0, (long long)(n + 3), 0, (long long)(n + 2), 0, (long long)(n + 1), 0, (long long)n);
  t = _mm512_xor_si512(t, key512(k->enc2[0]));
  for (int r = 1; r < XTS_ROUNDS; r++) t = _mm512_aesenc_epi128(t, key512(k->enc2[r]));
  return _mm512_aesenclast_epi128(t, key512(k->enc2[XTS_ROUNDS]));
}

static inline VAES void run(const xts_keys *k, const uint8_t *in, uint8_t *out, size_t nsect, uint64_t first, int enc) {
  const uint8_t(*rk)[16] = enc ? k->enc1 : k->dec1;
  __m128i t0[4] __attribute__((aligned(64)));
  __m512i tw[8];
  /*
   * Lanes past the last sector are computed and ignored. The next 4 first tweaks are started
   * before this group's sectors: independent of them, their 14 dependent rounds overlap.
   */
  __m512i next = first_tweaks4(k, first);
  for (size_t s = 0; s < nsect; s += 4) {
    _mm512_store_si512(t0, next);
    if (s + 4 < nsect) next = first_tweaks4(k, first + s + 4);
    size_t m = nsect - s < 4 ? nsect - s : 4;
    for (size_t i = 0; i < m; i++) {
      sector_tweaks(t0[i], tw);
      sector(rk, in + (s + i) * SECTOR, out + (s + i) * SECTOR, tw, enc);
    }
  }
  next = _mm512_setzero_si512();
  _mm512_store_si512(t0, next);
  __asm__ __volatile__("" : : "r"(t0) : "memory");
}

VAES void xts_vaes_crypt(const xts_keys *k, const uint8_t *in, uint8_t *out, size_t len, size_t unit, uint64_t first, int enc) {
  if (unit != SECTOR) {
    xts_aesni_crypt(k, in, out, len, unit, first, enc);
    return;
  }
  /* Two call sites with a constant direction, so each inlined copy has no branch in its rounds. */
  if (enc) run(k, in, out, len / SECTOR, first, 1);
  else run(k, in, out, len / SECTOR, first, 0);
}
#endif
