/*
 * The cipher object of the vmcrypt_xts addon (native/xts.c), shared with the mapped-file walk
 * (native/xts-map.c).
 */
#ifndef VMCRYPT_XTS_STATE_H
#define VMCRYPT_XTS_STATE_H

#include <node_api.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "xts-aes.h"

enum { IMPL_OPENSSL = 0, IMPL_AESNI = 1, IMPL_VAES = 2 };
/* First field of every external of the addon, so one kind is never taken for another. */
#define XTS_STATE_MAGIC 0x78747331u /* "xts1" */
#define XTS_MAP_MAGIC 0x6d617031u   /* "map1" */
enum { XTS_DESTROYED = -1, XTS_FAILED = -2 };

typedef struct {
  uint32_t magic;
  int impl;
  int enc;
  EVP_CIPHER_CTX *ctx; /* IMPL_OPENSSL */
#ifdef VMCRYPT_XTS_X86
  xts_keys *keys; /* IMPL_AESNI, IMPL_VAES: 64-byte aligned, wiped before free */
#endif
} xts_state;

/* The cipher behind a JS handle, or NULL if it is not one. */
xts_state *xts_state_of(napi_env env, napi_value v);
/* len bytes (whole units) from in to out (equal, or not overlapping): 0, XTS_DESTROYED or XTS_FAILED. */
int xts_state_crypt(xts_state *st, const uint8_t *in, uint8_t *out, size_t len, size_t unit, uint64_t sector);
/* Adds mapFile / unmapFile / convertMapped to the exports. */
void xts_map_register(napi_env env, napi_value exports);
/* SIGBUS under a mapping, reported by xts_map_guarded. */
#define XTS_BUS (-3)
/* fn(arg) with a SIGBUS under a mapping turned into XTS_BUS (native/xts-map.c). */
int xts_map_guarded(int (*fn)(const void *), const void *arg);
/* The bytes of a live map handle at file offset *start (NULL if v is none or it is unmapped). */
uint8_t *xts_map_view(napi_env env, napi_value v, uint64_t *start, uint64_t *length, int *writable);
/* Whether len bytes (a multiple of 8) are all zero. */
int xts_all_zero(const uint8_t *p, size_t len);
/* null/undefined -> NULL; a cipher -> it; anything else sets *bad. */
xts_state *xts_opt_state(napi_env env, napi_value v, int *bad);
/* Adds convertCopy (the copy modes' mapped conversion, native/xts-copy.c) to the exports. */
void xts_copy_register(napi_env env, napi_value exports);
/* Adds afFold (the LUKS1 anti-forensic fold, native/xts-af.c) to the exports. */
void xts_af_register(napi_env env, napi_value exports);

#endif
