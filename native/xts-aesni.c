/*
 * AES-NI kernel of the vmcrypt_xts addon: key expansion (FIPS 197 §5.2, AES-256) and XTS with
 * eight blocks in flight (AESENC has a latency of several cycles but a throughput of one or two
 * per cycle, so independent blocks interleaved keep the unit busy). See xts-aes.h.
 */
#include "xts-aes.h"

#ifdef VMCRYPT_XTS_X86
#include <immintrin.h>
#include <string.h>

#define AESNI __attribute__((target("aes,sse4.1")))

int xts_aesni_usable(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
}

/* One step of the AES-256 key schedule: w[i..i+3] from w[i-8..i-5] and the assist word. */
static inline AESNI __m128i expand_step(__m128i prev, __m128i assist) {
  prev = _mm_xor_si128(prev, _mm_slli_si128(prev, 4));
  prev = _mm_xor_si128(prev, _mm_slli_si128(prev, 4));
  prev = _mm_xor_si128(prev, _mm_slli_si128(prev, 4));
  return _mm_xor_si128(prev, assist);
}

/* Round keys rk[0..14] of AES-256 for a 32-byte key. */
static AESNI void expand256(__m128i rk[XTS_ROUNDS + 1], const uint8_t key[32]) {
  __m128i a = _mm_loadu_si128((const __m128i *)key);
  __m128i b = _mm_loadu_si128((const __m128i *)(key + 16));
  rk[0] = a;
  rk[1] = b;
  /* Even round keys: RotWord+SubWord+Rcon of the last word (shuffle 0xff); odd ones: SubWord only (0xaa). */
#define EXPAND_PAIR(i, rcon)                                                               \
  a = expand_step(a, _mm_shuffle_epi32(_mm_aeskeygenassist_si128(b, rcon), 0xff));         \
  rk[i] = a;                                                                               \
  if ((i) + 1 <= XTS_ROUNDS) {                                                             \
    b = expand_step(b, _mm_shuffle_epi32(_mm_aeskeygenassist_si128(a, 0x00), 0xaa));       \
    rk[(i) + 1] = b;                                                                       \
  }
  EXPAND_PAIR(2, 0x01)
  EXPAND_PAIR(4, 0x02)
  EXPAND_PAIR(6, 0x04)
  EXPAND_PAIR(8, 0x08)
  EXPAND_PAIR(10, 0x10)
  EXPAND_PAIR(12, 0x20)
  a = expand_step(a, _mm_shuffle_epi32(_mm_aeskeygenassist_si128(b, 0x40), 0xff));
  rk[14] = a;
#undef EXPAND_PAIR
  a = _mm_setzero_si128();
  b = _mm_setzero_si128();
}

AESNI void xts_aesni_expand(xts_keys *k, const uint8_t key[64]) {
  __m128i rk[XTS_ROUNDS + 1];
  expand256(rk, key);
  for (int i = 0; i <= XTS_ROUNDS; i++) _mm_store_si128((__m128i *)k->enc1[i], rk[i]);
  /* Equivalent inverse cipher (FIPS 197 §5.3.5): reversed order, InvMixColumns on the middle keys. */
  _mm_store_si128((__m128i *)k->dec1[0], rk[XTS_ROUNDS]);
  for (int i = 1; i < XTS_ROUNDS; i++) _mm_store_si128((__m128i *)k->dec1[i], _mm_aesimc_si128(rk[XTS_ROUNDS - i]));
  _mm_store_si128((__m128i *)k->dec1[XTS_ROUNDS], rk[0]);
  expand256(rk, key + 32);
  for (int i = 0; i <= XTS_ROUNDS; i++) _mm_store_si128((__m128i *)k->enc2[i], rk[i]);
  memset(rk, 0, sizeof rk);
  __asm__ __volatile__("" : : "r"(rk) : "memory"); /* keep the wipe */
}

/* T · α (IEEE 1619 §5.2): shift the 128-bit little-endian value left by one, fold x^128 into 0x87. */
static inline AESNI __m128i mul_alpha(__m128i t) {
  __m128i carry = _mm_srai_epi32(t, 31);                        /* each dword's top bit, spread */
  carry = _mm_shuffle_epi32(carry, _MM_SHUFFLE(2, 1, 0, 3));    /* dword i gets dword i-1's; 0 gets 3's */
  carry = _mm_and_si128(carry, _mm_set_epi32(1, 1, 1, 0x87));
  return _mm_xor_si128(_mm_slli_epi32(t, 1), carry);
}

/* AES-256-Enc(K2, le128(n)): the unit's first tweak. */
static inline AESNI __m128i first_tweak(const xts_keys *k, uint64_t n) {
  __m128i t = _mm_xor_si128(_mm_set_epi64x(0, (long long)n), _mm_load_si128((const __m128i *)k->enc2[0]));
  for (int r = 1; r < XTS_ROUNDS; r++) t = _mm_aesenc_si128(t, _mm_load_si128((const __m128i *)k->enc2[r]));
  return _mm_aesenclast_si128(t, _mm_load_si128((const __m128i *)k->enc2[XTS_ROUNDS]));
}

/* n ≤ 8 blocks from in to out (may be equal) with tweaks tw[0..n-1]; constant bounds when n is 8. */
static inline AESNI void blocks(const xts_keys *k, const uint8_t *in, uint8_t *out, const __m128i *tw, int n, int enc) {
  __m128i x[8];
  const uint8_t(*rk)[16] = enc ? k->enc1 : k->dec1;
  __m128i key = _mm_load_si128((const __m128i *)rk[0]);
  for (int i = 0; i < n; i++) x[i] = _mm_xor_si128(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(in + 16 * i)), tw[i]), key);
  if (enc) {
    for (int r = 1; r < XTS_ROUNDS; r++) {
      key = _mm_load_si128((const __m128i *)rk[r]);
      for (int i = 0; i < n; i++) x[i] = _mm_aesenc_si128(x[i], key);
    }
    key = _mm_load_si128((const __m128i *)rk[XTS_ROUNDS]);
    for (int i = 0; i < n; i++) x[i] = _mm_aesenclast_si128(x[i], key);
  } else {
    for (int r = 1; r < XTS_ROUNDS; r++) {
      key = _mm_load_si128((const __m128i *)rk[r]);
      for (int i = 0; i < n; i++) x[i] = _mm_aesdec_si128(x[i], key);
    }
    key = _mm_load_si128((const __m128i *)rk[XTS_ROUNDS]);
    for (int i = 0; i < n; i++) x[i] = _mm_aesdeclast_si128(x[i], key);
  }
  for (int i = 0; i < n; i++) _mm_storeu_si128((__m128i *)(out + 16 * i), _mm_xor_si128(x[i], tw[i]));
}

AESNI void xts_aesni_crypt(const xts_keys *k, const uint8_t *in, uint8_t *out, size_t len, size_t unit, uint64_t first, int enc) {
  __m128i tw[8];
  for (size_t off = 0; off < len; off += unit, first++) {
    __m128i t = first_tweak(k, first);
    const uint8_t *p = in + off;
    uint8_t *q = out + off;
    size_t left = unit / 16;
    while (left >= 8) {
      for (int i = 0; i < 8; i++) {
        tw[i] = t;
        t = mul_alpha(t);
      }
      if (enc) blocks(k, p, q, tw, 8, 1);
      else blocks(k, p, q, tw, 8, 0);
      p += 128;
      q += 128;
      left -= 8;
    }
    if (left > 0) {
      for (size_t i = 0; i < left; i++) {
        tw[i] = t;
        t = mul_alpha(t);
      }
      blocks(k, p, q, tw, (int)left, enc);
    }
  }
  /* Tweaks are derived from K2 and public sector numbers; cleared anyway, cheaply. */
  for (int i = 0; i < 8; i++) tw[i] = _mm_setzero_si128();
  __asm__ __volatile__("" : : "r"(tw) : "memory");
}
#endif
