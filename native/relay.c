/*
 * vmcrypt_relay: the bulk data path of the migration tunnel (channel "tunnel") on its own pthread.
 *
 * One relay moves one direction of one tunnel: `seal` reads QEMU's plain stream from a socket and
 * writes AES-256-GCM frames to the agent-to-agent TCP socket; `open` reads frames from TCP, checks
 * them strictly in order and writes the plaintext to QEMU's socket. The frame format, nonce and
 * AAD are exactly those of src/host/migration/frames.ts (either side may be the TypeScript one):
 *
 *   u32 BE len(ciphertext+tag) | u32 BE counter | u8 flags (bit0 last, bit1 reverse) | ct | tag
 *   nonce = migration nonce (8) || u32 BE (counter | 0x80000000 when reverse)
 *   AAD   = migrationId || u32 BE counter || flags
 *
 * Node keeps the control path: it accepts/connects the sockets, hands their fds over (the relay
 * works on dup()s; each fd direction has one owner: the relay reads where Node writes and vice
 * versa), and gets events (eof, last, error) through a thread-safe function. The OpenSSL used is
 * the one inside Node (its EVP symbols are exported by the node binary).
 *
 * Key hygiene: the key lives only in the EVP context (cleared by EVP_CIPHER_CTX_free) and in this
 * struct until the context is set up (then cleansed); the nonce and id are not secret.
 */
#include "relay.h"

/* ---------- events to Node ---------- */

static void call_js(napi_env env, napi_value cb, void *context, void *data) {
  (void)context;
  relay_event *ev = (relay_event *)data;
  if (env != NULL && cb != NULL) {
    napi_value argv[3], undef;
    const char *kind = ev->kind == EV_EOF ? "eof" : ev->kind == EV_LAST ? "last" : "error";
    napi_create_string_utf8(env, kind, NAPI_AUTO_LENGTH, &argv[0]);
    napi_create_string_utf8(env, ev->code, NAPI_AUTO_LENGTH, &argv[1]);
    napi_create_string_utf8(env, ev->message, NAPI_AUTO_LENGTH, &argv[2]);
    napi_get_undefined(env, &undef);
    napi_call_function(env, undef, cb, 3, argv, NULL);
  }
  free(ev);
}

void relay_emit(relay *r, int kind, const char *code, const char *message) {
  relay_event *ev = (relay_event *)calloc(1, sizeof(relay_event));
  if (ev == NULL) return;
  ev->kind = kind;
  snprintf(ev->code, sizeof ev->code, "%s", code);
  snprintf(ev->message, sizeof ev->message, "%s", message);
  if (napi_call_threadsafe_function(r->tsfn, ev, napi_tsfn_nonblocking) != napi_ok) free(ev);
}

/* ---------- N-API ---------- */

static void stop_join(relay *r) {
  if (!r->started || r->joined) return;
  pthread_mutex_lock(&r->mu);
  r->stop = 1;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  ssize_t w = write(r->wake[1], "x", 1);
  (void)w;
  pthread_join(r->thread, NULL);
  r->joined = 1;
}

static void free_relay(relay *r) {
  stop_join(r);
  if (r->in_fd >= 0) close(r->in_fd);
  if (r->out_fd >= 0) close(r->out_fd);
  if (r->wake[0] >= 0) close(r->wake[0]);
  if (r->wake[1] >= 0) close(r->wake[1]);
  r->in_fd = r->out_fd = r->wake[0] = r->wake[1] = -1;
  if (r->ctx != NULL) EVP_CIPHER_CTX_free(r->ctx);
  r->ctx = NULL;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  relay *r = (relay *)data;
  free_relay(r);
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->cv);
  free(r);
}

static napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_error(env, "VMCRYPT_RELAY", msg);
  return NULL;
}

static relay *relay_of(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return (relay *)p;
}

/* start(seal, reverse, inFd, outFd, key(32), nonce(8), migrationId(Buffer), onEvent) -> external */
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 8) return throw_error(env, "start(seal, reverse, inFd, outFd, key, nonce, id, onEvent)");
  bool seal, reverse;
  int32_t in_fd, out_fd;
  void *key, *nonce, *id;
  size_t key_len, nonce_len, id_len;
  if (napi_get_value_bool(env, argv[0], &seal) != napi_ok || napi_get_value_bool(env, argv[1], &reverse) != napi_ok ||
      napi_get_value_int32(env, argv[2], &in_fd) != napi_ok || napi_get_value_int32(env, argv[3], &out_fd) != napi_ok || in_fd < 0 || out_fd < 0)
    return throw_error(env, "bad arguments");
  if (napi_get_buffer_info(env, argv[4], &key, &key_len) != napi_ok || key_len != 32) return throw_error(env, "key must be 32 bytes");
  if (napi_get_buffer_info(env, argv[5], &nonce, &nonce_len) != napi_ok || nonce_len != 8) return throw_error(env, "nonce must be 8 bytes");
  if (napi_get_buffer_info(env, argv[6], &id, &id_len) != napi_ok || id_len > MAX_ID) return throw_error(env, "migration id too long");
  relay *r = (relay *)calloc(1, sizeof(relay));
  if (r == NULL) return throw_error(env, "out of memory");
  r->seal = seal;
  r->reverse = reverse;
  r->in_fd = r->out_fd = r->wake[0] = r->wake[1] = -1;
  atomic_init(&r->stop, 0);
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  atomic_init(&r->bytes, 0);
  atomic_init(&r->frames, 0);
  memcpy(r->nonce, nonce, 8);
  memcpy(r->id, id, id_len);
  r->id_len = id_len;
  napi_value ext, name;
  if (napi_create_external(env, r, finalize, NULL, &ext) != napi_ok) {
    free(r);
    return throw_error(env, "cannot create the relay");
  }
  r->in_fd = dup(in_fd);
  r->out_fd = dup(out_fd);
  r->ctx = EVP_CIPHER_CTX_new();
  if (r->in_fd < 0 || r->out_fd < 0 || pipe(r->wake) != 0 || r->ctx == NULL ||
      EVP_CipherInit_ex(r->ctx, EVP_aes_256_gcm(), NULL, (const unsigned char *)key, NULL, seal ? 1 : 0) != 1) {
    free_relay(r);
    return throw_error(env, "cannot set up the relay (fds or AES-GCM)");
  }
  napi_create_string_utf8(env, "vmcrypt-relay", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[7], NULL, name, 0, 1, NULL, NULL, NULL, call_js, &r->tsfn) != napi_ok) {
    free_relay(r);
    return throw_error(env, "cannot create the relay's event function");
  }
  napi_unref_threadsafe_function(env, r->tsfn);
  if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
    napi_release_threadsafe_function(r->tsfn, napi_tsfn_release);
    free_relay(r);
    return throw_error(env, "cannot start the relay thread");
  }
  r->started = 1;
  napi_create_reference(env, ext, 1, &r->self);
  return ext;
}

/* finish(relay): a seal relay sends its last frame once its input ended */
static napi_value finish(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  relay *r = argc == 1 ? relay_of(env, argv[0]) : NULL;
  if (r == NULL) return throw_error(env, "finish(relay)");
  pthread_mutex_lock(&r->mu);
  r->finish = 1;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

/* stop(relay, abort): stops and joins the thread, closes its fds (abort: shuts the sockets down first) */
static napi_value stop(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool abort_ = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  relay *r = argc == 2 ? relay_of(env, argv[0]) : NULL;
  if (r == NULL || napi_get_value_bool(env, argv[1], &abort_) != napi_ok) return throw_error(env, "stop(relay, abort)");
  stop_join(r);
  if (r->self != NULL) {
    napi_delete_reference(env, r->self);
    r->self = NULL;
  }
  if (abort_) {
    if (r->in_fd >= 0) shutdown(r->in_fd, SHUT_RDWR);
    if (r->out_fd >= 0) shutdown(r->out_fd, SHUT_RDWR);
  }
  free_relay(r);
  return NULL;
}

/* stats(relay): [plain bytes moved, frames sealed or opened] so far */
static napi_value stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out, v;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  relay *r = argc == 1 ? relay_of(env, argv[0]) : NULL;
  if (r == NULL) return throw_error(env, "stats(relay)");
  napi_create_array_with_length(env, 2, &out);
  napi_create_double(env, (double)atomic_load(&r->bytes), &v);
  napi_set_element(env, out, 0, v);
  napi_create_double(env, (double)atomic_load(&r->frames), &v);
  napi_set_element(env, out, 1, v);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"start", NULL, start, NULL, NULL, NULL, napi_default, NULL},
      {"finish", NULL, finish, NULL, NULL, NULL, napi_default, NULL},
      {"stop", NULL, stop, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, stats, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
