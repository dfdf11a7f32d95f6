/*
 * The LUKS1 anti-forensic fold in native code (src/disk/luks1/af.ts): d = 0; for each of the
 * first `count` stripes, d ^= stripe; d = diffuse(d), where diffuse hashes each digest-sized piece
 * i as H(be32(i) ‖ piece) (LUKS1 spec §2.4). A keyslot split or merge is 3999 such rounds, i.e.
 * ~8000 hashes of a few dozen bytes; in JavaScript each hash call cost 3–5 µs of object and
 * binding overhead (~60 ms per keyslot, on the critical path of every in-place start), here one
 * digest context is reused (< 5 ms). Intermediate values are key material: cleansed.
 */
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

#include "xts-state.h"

#define MAX_KEY 256 /* bytes of a master key; LUKS1 keys are 16–64 */

static napi_value af_error(napi_env env, const char *msg) {
  napi_throw_error(env, "VMCRYPT_XTS", msg);
  return NULL;
}

static int diffuse(EVP_MD_CTX *ctx, const EVP_MD *md, uint8_t *d, size_t n, size_t dlen) {
  uint8_t h[EVP_MAX_MD_SIZE];
  for (uint32_t i = 0; (size_t)i * dlen < n; i++) {
    size_t off = (size_t)i * dlen, len = n - off < dlen ? n - off : dlen;
    uint8_t be[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, be, 4) != 1 || EVP_DigestUpdate(ctx, d + off, len) != 1 ||
        EVP_DigestFinal_ex(ctx, h, NULL) != 1) {
      OPENSSL_cleanse(h, sizeof h);
      return 0;
    }
    memcpy(d + off, h, len);
  }
  OPENSSL_cleanse(h, sizeof h);
  return 1;
}

/* afFold(material: Buffer, keyBytes, count, hash: 'sha1' | 'sha256' | 'sha512' | …, out: Buffer(keyBytes)) */
static napi_value af_fold(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  uint8_t *material, *out;
  size_t mlen, olen, hlen;
  uint32_t key_bytes, count;
  char hash[32];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5 ||
      napi_get_buffer_info(env, argv[0], (void **)&material, &mlen) != napi_ok || napi_get_value_uint32(env, argv[1], &key_bytes) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &count) != napi_ok ||
      napi_get_value_string_utf8(env, argv[3], hash, sizeof hash, &hlen) != napi_ok ||
      napi_get_buffer_info(env, argv[4], (void **)&out, &olen) != napi_ok) {
    return af_error(env, "afFold(material, keyBytes, count, hash, out)");
  }
  if (key_bytes == 0 || key_bytes > MAX_KEY || olen != key_bytes || (uint64_t)key_bytes * count > mlen) return af_error(env, "afFold: bad sizes");
  EVP_MD *md = EVP_MD_fetch(NULL, hash, NULL);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = md != NULL && ctx != NULL && EVP_MD_get_size(md) > 0;
  uint8_t d[MAX_KEY];
  memset(d, 0, sizeof d);
  for (uint32_t s = 0; ok && s < count; s++) {
    const uint8_t *stripe = material + (size_t)s * key_bytes;
    for (uint32_t j = 0; j < key_bytes; j++) d[j] ^= stripe[j];
    ok = diffuse(ctx, md, d, key_bytes, (size_t)EVP_MD_get_size(md));
  }
  if (ok) memcpy(out, d, key_bytes);
  OPENSSL_cleanse(d, sizeof d);
  EVP_MD_CTX_free(ctx);
  EVP_MD_free(md);
  if (!ok) return af_error(env, "afFold: unknown hash or digest failure");
  return NULL;
}

void xts_af_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"afFold", NULL, af_fold, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
