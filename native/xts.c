/*
 * vmcrypt_xts: AES-256-XTS over many 512-byte data units in one call, for the disk engine.
 *
 * Three implementations behind one API, picked per cipher object:
 *  - "vaes":    VAES + AVX-512, a whole sector (32 blocks) in flight (native/xts-vaes.c);
 *  - "aesni":   AES-NI, 8 blocks in flight (native/xts-aesni.c);
 *  - "openssl": OpenSSL's EVP AES-256-XTS (the one inside Node, whose symbols the node binary
 *               exports), IV reset per sector — the only one on non-x86 machines.
 * "auto" (the default) takes the first the CPU can run. VMCRYPT_XTS_IMPL=vaes|aesni|openssl|auto
 * or create()'s third argument chooses (tests cross-check every path against OpenSSL). The
 * OpenSSL path cost ~0.2 CPU-s per GiB in EVP_CipherInit_ex alone (IV reset per 512 bytes).
 *
 * Key hygiene: the 64-byte key is copied only into the key schedule (our own, or OpenSSL's
 * context); destroy() or the finalizer (when the JS object is collected) clears it with
 * OPENSSL_cleanse / EVP_CIPHER_CTX_free.
 */
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xts-aes.h"
#include "xts-state.h"

static const char *const impl_names[] = {"openssl", "aesni", "vaes"};

static void free_state(xts_state *st) {
  if (st->ctx != NULL) {
    EVP_CIPHER_CTX_free(st->ctx);
    st->ctx = NULL;
  }
#ifdef VMCRYPT_XTS_X86
  if (st->keys != NULL) {
    OPENSSL_cleanse(st->keys, sizeof *st->keys);
    free(st->keys);
    st->keys = NULL;
  }
#endif
}

static int impl_usable(int impl) {
#ifdef VMCRYPT_XTS_X86
  if (impl == IMPL_VAES) return xts_aesni_usable() && xts_vaes_usable();
  if (impl == IMPL_AESNI) return xts_aesni_usable();
#endif
  return impl == IMPL_OPENSSL;
}

/* "auto" (or NULL / empty): the fastest usable; else the named one, or -1 if unknown or unusable. */
static int pick_impl(const char *name) {
  if (name == NULL || name[0] == '\0' || strcmp(name, "auto") == 0) {
    for (int i = IMPL_VAES; i > IMPL_OPENSSL; i--)
      if (impl_usable(i)) return i;
    return IMPL_OPENSSL;
  }
  for (int i = IMPL_OPENSSL; i <= IMPL_VAES; i++)
    if (strcmp(name, impl_names[i]) == 0) return impl_usable(i) ? i : -1;
  return -1;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  xts_state *st = (xts_state *)data;
  free_state(st);
  free(st);
}

static napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_error(env, "VMCRYPT_XTS", msg);
  return NULL;
}

/* create(key: Buffer of 64 bytes, encrypt: boolean, impl?: 'auto' | 'vaes' | 'aesni' | 'openssl') -> external */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || argc > 3) return throw_error(env, "create(key, encrypt, impl?)");
  void *key;
  size_t key_len;
  if (napi_get_buffer_info(env, argv[0], &key, &key_len) != napi_ok || key_len != 64) return throw_error(env, "key must be a 64-byte Buffer");
  bool enc;
  if (napi_get_value_bool(env, argv[1], &enc) != napi_ok) return throw_error(env, "encrypt must be a boolean");
  char name[16] = "";
  size_t name_len = 0;
  napi_valuetype t = napi_undefined;
  if (argc == 3 && napi_typeof(env, argv[2], &t) == napi_ok && t != napi_undefined &&
      napi_get_value_string_utf8(env, argv[2], name, sizeof name, &name_len) != napi_ok) return throw_error(env, "impl must be a string");
  const char *env_impl = getenv("VMCRYPT_XTS_IMPL");
  int impl = pick_impl(name[0] != '\0' ? name : env_impl);
  if (impl < 0) return throw_error(env, "XTS implementation unknown or not supported by this CPU");
  /* IEEE 1619 allows K1 = K2, but OpenSSL 3 (and FIPS 140) refuse it; every path refuses alike. */
  if (CRYPTO_memcmp(key, (const unsigned char *)key + 32, 32) == 0) return throw_error(env, "the two halves of the XTS key must differ");
  xts_state *st = (xts_state *)calloc(1, sizeof(xts_state));
  if (st == NULL) return throw_error(env, "out of memory");
  st->magic = XTS_STATE_MAGIC;
  st->impl = impl;
  st->enc = enc ? 1 : 0;
#ifdef VMCRYPT_XTS_X86
  if (impl != IMPL_OPENSSL) {
    void *mem = NULL;
    if (posix_memalign(&mem, 64, sizeof(xts_keys)) != 0) {
      free(st);
      return throw_error(env, "out of memory");
    }
    st->keys = (xts_keys *)mem;
    xts_aesni_expand(st->keys, (const uint8_t *)key);
  }
#endif
  if (impl == IMPL_OPENSSL) {
    st->ctx = EVP_CIPHER_CTX_new();
    static const unsigned char zero_iv[16] = {0};
    if (st->ctx == NULL || EVP_CipherInit_ex(st->ctx, EVP_aes_256_xts(), NULL, (const unsigned char *)key, zero_iv, enc ? 1 : 0) != 1) {
      free_state(st);
      free(st);
      return throw_error(env, "OpenSSL refused the XTS key");
    }
  }
  napi_value ext;
  if (napi_create_external(env, st, finalize, NULL, &ext) != napi_ok) {
    free_state(st);
    free(st);
    return throw_error(env, "cannot create external");
  }
  return ext;
}

/* crypt(state, data: Buffer, firstSector: number, unitBytes: number): in place */
static napi_value crypt(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) return throw_error(env, "crypt(state, data, firstSector, unit)");
  xts_state *st = xts_state_of(env, argv[0]);
  if (st == NULL) return throw_error(env, "not a cipher");
  unsigned char *data;
  size_t len;
  if (napi_get_buffer_info(env, argv[1], (void **)&data, &len) != napi_ok) return throw_error(env, "data must be a Buffer");
  double first_d;
  if (napi_get_value_double(env, argv[2], &first_d) != napi_ok || first_d < 0 || first_d > 9007199254740991.0) return throw_error(env, "bad sector number");
  uint32_t unit;
  if (napi_get_value_uint32(env, argv[3], &unit) != napi_ok || unit < 16 || unit % 16 != 0) return throw_error(env, "bad data unit");
  if (len % unit != 0) return throw_error(env, "data is not a whole number of data units");
  int r = xts_state_crypt(st, data, data, len, unit, (uint64_t)first_d);
  if (r == XTS_DESTROYED) return throw_error(env, "cipher destroyed");
  if (r != 0) return throw_error(env, "OpenSSL XTS failed");
  return NULL;
}

int xts_state_crypt(xts_state *st, const uint8_t *in, uint8_t *out, size_t len, size_t unit, uint64_t sector) {
#ifdef VMCRYPT_XTS_X86
  if (st->keys != NULL) {
    if (st->impl == IMPL_VAES) xts_vaes_crypt(st->keys, in, out, len, unit, sector, st->enc);
    else xts_aesni_crypt(st->keys, in, out, len, unit, sector, st->enc);
    return 0;
  }
#endif
  if (st->ctx == NULL) return XTS_DESTROYED;
  unsigned char iv[16];
  memset(iv, 0, sizeof iv);
  for (size_t off = 0; off < len; off += unit, sector++) {
    for (int i = 0; i < 8; i++) iv[i] = (unsigned char)(sector >> (8 * i));
    int out_len = 0;
    if (EVP_CipherInit_ex(st->ctx, NULL, NULL, NULL, iv, -1) != 1 ||
        EVP_CipherUpdate(st->ctx, out + off, &out_len, in + off, (int)unit) != 1 || out_len != (int)unit) {
      return XTS_FAILED;
    }
  }
  return 0;
}

xts_state *xts_state_of(napi_env env, napi_value v) {
  xts_state *st;
  if (napi_get_value_external(env, v, (void **)&st) != napi_ok || st == NULL || st->magic != XTS_STATE_MAGIC) return NULL;
  return st;
}

/* destroy(state): frees the context (and its key schedule) now. */
static napi_value destroy(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) return throw_error(env, "destroy(state)");
  xts_state *st = xts_state_of(env, argv[0]);
  if (st == NULL) return throw_error(env, "not a cipher");
  free_state(st);
  return NULL;
}

/* implOf(state) -> 'vaes' | 'aesni' | 'openssl': which implementation this cipher runs. */
static napi_value impl_of(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  xts_state *st;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || (st = xts_state_of(env, argv[0])) == NULL) {
    return throw_error(env, "implOf(state)");
  }
  napi_value out;
  napi_create_string_utf8(env, impl_names[st->impl], NAPI_AUTO_LENGTH, &out);
  return out;
}

/* impls() -> the implementations this CPU can run, fastest first. */
static napi_value impls(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_array(env, &out);
  uint32_t n = 0;
  for (int i = IMPL_VAES; i >= IMPL_OPENSSL; i--) {
    if (!impl_usable(i)) continue;
    napi_value name;
    napi_create_string_utf8(env, impl_names[i], NAPI_AUTO_LENGTH, &name);
    napi_set_element(env, out, n++, name);
  }
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"create", NULL, create, NULL, NULL, NULL, napi_default, NULL},
      {"crypt", NULL, crypt, NULL, NULL, NULL, napi_default, NULL},
      {"destroy", NULL, destroy, NULL, NULL, NULL, napi_default, NULL},
      {"implOf", NULL, impl_of, NULL, NULL, NULL, napi_default, NULL},
      {"impls", NULL, impls, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  xts_map_register(env, exports);
  xts_af_register(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
