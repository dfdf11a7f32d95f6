/*
 * vmcrypt_xts: AES-256-XTS over many 512-byte data units in one call, for the disk bulk engine.
 *
 * OpenSSL's XTS takes one data unit (one LUKS sector) per IV; creating a cipher object per sector
 * from JavaScript costs more than the encryption itself. Here one EVP context holds the key
 * schedule and only the IV (the plain64 tweak: little-endian sector number, zero-padded) is reset
 * per sector. The OpenSSL used is the one inside Node (its symbols are exported by the node binary).
 *
 * Key hygiene: the 64-byte key is copied only into OpenSSL's context; EVP_CIPHER_CTX_free clears
 * the schedule (called by destroy() or by the finalizer when the JS object is collected).
 */
#include <node_api.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

typedef struct {
  EVP_CIPHER_CTX *ctx;
} xts_state;

static void free_state(xts_state *st) {
  if (st->ctx != NULL) {
    EVP_CIPHER_CTX_free(st->ctx);
    st->ctx = NULL;
  }
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

/* create(key: Buffer of 64 bytes, encrypt: boolean) -> external */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) return throw_error(env, "create(key, encrypt)");
  void *key;
  size_t key_len;
  if (napi_get_buffer_info(env, argv[0], &key, &key_len) != napi_ok || key_len != 64) return throw_error(env, "key must be a 64-byte Buffer");
  bool enc;
  if (napi_get_value_bool(env, argv[1], &enc) != napi_ok) return throw_error(env, "encrypt must be a boolean");
  xts_state *st = (xts_state *)calloc(1, sizeof(xts_state));
  if (st == NULL) return throw_error(env, "out of memory");
  st->ctx = EVP_CIPHER_CTX_new();
  static const unsigned char zero_iv[16] = {0};
  if (st->ctx == NULL || EVP_CipherInit_ex(st->ctx, EVP_aes_256_xts(), NULL, (const unsigned char *)key, zero_iv, enc ? 1 : 0) != 1) {
    free_state(st);
    free(st);
    return throw_error(env, "OpenSSL refused the XTS key (the two halves must differ)");
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
  xts_state *st;
  if (napi_get_value_external(env, argv[0], (void **)&st) != napi_ok || st->ctx == NULL) return throw_error(env, "cipher destroyed");
  unsigned char *data;
  size_t len;
  if (napi_get_buffer_info(env, argv[1], (void **)&data, &len) != napi_ok) return throw_error(env, "data must be a Buffer");
  double first_d;
  if (napi_get_value_double(env, argv[2], &first_d) != napi_ok || first_d < 0 || first_d > 9007199254740991.0) return throw_error(env, "bad sector number");
  uint32_t unit;
  if (napi_get_value_uint32(env, argv[3], &unit) != napi_ok || unit < 16 || unit % 16 != 0) return throw_error(env, "bad data unit");
  if (len % unit != 0) return throw_error(env, "data is not a whole number of data units");
  uint64_t sector = (uint64_t)first_d;
  unsigned char iv[16];
  memset(iv, 0, sizeof iv);
  for (size_t off = 0; off < len; off += unit, sector++) {
    for (int i = 0; i < 8; i++) iv[i] = (unsigned char)(sector >> (8 * i));
    int out_len = 0;
    if (EVP_CipherInit_ex(st->ctx, NULL, NULL, NULL, iv, -1) != 1 ||
        EVP_CipherUpdate(st->ctx, data + off, &out_len, data + off, (int)unit) != 1 || out_len != (int)unit) {
      return throw_error(env, "OpenSSL XTS failed");
    }
  }
  return NULL;
}

/* destroy(state): frees the context (and its key schedule) now. */
static napi_value destroy(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) return throw_error(env, "destroy(state)");
  xts_state *st;
  if (napi_get_value_external(env, argv[0], (void **)&st) != napi_ok) return throw_error(env, "not a cipher");
  free_state(st);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"create", NULL, create, NULL, NULL, NULL, napi_default, NULL},
      {"crypt", NULL, crypt, NULL, NULL, NULL, napi_default, NULL},
      {"destroy", NULL, destroy, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
