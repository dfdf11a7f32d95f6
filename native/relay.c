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
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_PLAIN (256 * 1024) /* frames.ts MAX_FRAME_PLAIN */
#define HEADER 9
#define TAG 16
#define MAX_COUNTER 0x7fffffffu
#define MAX_ID 256

enum { EV_EOF = 1, EV_LAST = 2, EV_ERROR = 3 };

typedef struct {
  int kind;
  char code[48];
  char message[200];
} relay_event;

typedef struct {
  int seal;    /* 1: plain → frames; 0: frames → plain */
  int reverse; /* direction bit of the frames */
  int in_fd, out_fd, wake[2];
  unsigned char nonce[8];
  unsigned char id[MAX_ID];
  size_t id_len;
  EVP_CIPHER_CTX *ctx;
  pthread_t thread;
  int started, joined;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int finish;
  atomic_int stop;
  atomic_ullong bytes, frames;
  napi_threadsafe_function tsfn;
  napi_ref self; /* keeps the JS handle (and so this struct) alive until stop() */
} relay;

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

static void emit(relay *r, int kind, const char *code, const char *message) {
  relay_event *ev = (relay_event *)calloc(1, sizeof(relay_event));
  if (ev == NULL) return;
  ev->kind = kind;
  snprintf(ev->code, sizeof ev->code, "%s", code);
  snprintf(ev->message, sizeof ev->message, "%s", message);
  if (napi_call_threadsafe_function(r->tsfn, ev, napi_tsfn_nonblocking) != napi_ok) free(ev);
}

static int fail(relay *r, const char *code, const char *message) {
  if (!r->stop) emit(r, EV_ERROR, code, message);
  return -1;
}

static int tampered(relay *r, const char *why) {
  char m[200];
  snprintf(m, sizeof m, "migration stream rejected: %s", why);
  return fail(r, "HOST_MIGRATION_STREAM_TAMPERED", m);
}

/* ---------- blocking I/O on non-blocking fds, interruptible by stop() ---------- */

/* Waits until fd is ready for `events`; -1 once stop() was called. */
static int wait_fd(relay *r, int fd, short events) {
  for (;;) {
    if (r->stop) return -1;
    struct pollfd p[2] = {{fd, events, 0}, {r->wake[0], POLLIN, 0}};
    int n = poll(p, 2, -1);
    if (n < 0 && errno != EINTR) return -1;
    if (r->stop) return -1;
    if (n > 0 && p[0].revents != 0) return 0;
  }
}

/* Writes all of iov to fd (sendmsg, no SIGPIPE); 0 or -1 (errno kept, or stop). */
static int write_all(relay *r, int fd, struct iovec *iov, int cnt) {
  while (cnt > 0) {
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = iov;
    mh.msg_iovlen = (size_t)cnt;
    ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (wait_fd(r, fd, POLLOUT) < 0) return -1;
        continue;
      }
      return -1;
    }
    size_t left = (size_t)n;
    while (cnt > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      iov++;
      cnt--;
    }
    if (cnt > 0) {
      iov->iov_base = (char *)iov->iov_base + left;
      iov->iov_len -= left;
    }
  }
  return 0;
}

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* Sets the per-frame IV and AAD on r->ctx (the key schedule stays). */
static int frame_init(relay *r, uint32_t counter, unsigned char flags, int enc) {
  unsigned char iv[12], aad_tail[5];
  int outl;
  memcpy(iv, r->nonce, 8);
  put32(iv + 8, counter | (r->reverse ? 0x80000000u : 0));
  put32(aad_tail, counter);
  aad_tail[4] = flags;
  if (EVP_CipherInit_ex(r->ctx, NULL, NULL, NULL, iv, enc) != 1) return -1;
  if (EVP_CipherUpdate(r->ctx, NULL, &outl, r->id, (int)r->id_len) != 1) return -1;
  if (EVP_CipherUpdate(r->ctx, NULL, &outl, aad_tail, 5) != 1) return -1;
  return 0;
}

/* ---------- seal: QEMU → frames ---------- */

static int send_frame(relay *r, uint32_t *counter, unsigned char *buf, size_t len, int last) {
  if (*counter > MAX_COUNTER) return fail(r, "HOST_MIGRATION_FAILED", "migration tunnel: frame counter exhausted");
  unsigned char header[HEADER], tag[TAG];
  unsigned char flags = (unsigned char)((last ? 1 : 0) | (r->reverse ? 2 : 0));
  int outl = 0;
  if (frame_init(r, *counter, flags, 1) < 0 || (len > 0 && EVP_EncryptUpdate(r->ctx, buf, &outl, buf, (int)len) != 1) ||
      EVP_EncryptFinal_ex(r->ctx, tag, &outl) != 1 || EVP_CIPHER_CTX_ctrl(r->ctx, EVP_CTRL_GCM_GET_TAG, TAG, tag) != 1)
    return fail(r, "HOST_MIGRATION_FAILED", "migration tunnel: AES-GCM failed");
  put32(header, (uint32_t)(len + TAG));
  put32(header + 4, *counter);
  header[8] = flags;
  (*counter)++;
  atomic_fetch_add(&r->frames, 1);
  struct iovec iov[3] = {{header, HEADER}, {buf, len}, {tag, TAG}};
  if (write_all(r, r->out_fd, iov, 3) < 0) return fail(r, "HOST_MIGRATION_FAILED", "the migration tunnel's peer connection failed");
  return 0;
}

static void seal_loop(relay *r, unsigned char *buf) {
  uint32_t counter = 0;
  size_t held = 0;
  for (;;) {
    ssize_t n = read(r->in_fd, buf + held, MAX_PLAIN - held);
    if (n > 0) {
      held += (size_t)n;
      atomic_fetch_add(&r->bytes, (unsigned long long)n);
      if (held < MAX_PLAIN) continue; /* gather up to a full frame while QEMU has more */
    } else if (n == 0) {
      break;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (held == 0) {
        if (wait_fd(r, r->in_fd, POLLIN) < 0) return;
        continue;
      }
    } else {
      fail(r, "HOST_MIGRATION_FAILED", "reading QEMU's migration stream failed");
      return;
    }
    if (send_frame(r, &counter, buf, held, 0) < 0) return;
    held = 0;
  }
  if (held > 0 && send_frame(r, &counter, buf, held, 0) < 0) return;
  emit(r, EV_EOF, "", "");
  /* the last frame goes once Node says the source has let go of the VM */
  pthread_mutex_lock(&r->mu);
  while (!r->finish && !r->stop) pthread_cond_wait(&r->cv, &r->mu);
  int go = r->finish && !r->stop;
  pthread_mutex_unlock(&r->mu);
  if (go && send_frame(r, &counter, buf, 0, 1) == 0) emit(r, EV_LAST, "", "");
}

/* ---------- open: frames → QEMU ---------- */

static void open_loop(relay *r, unsigned char *buf, size_t cap) {
  uint32_t expected = 0;
  size_t start = 0, end = 0;
  int lowat = 1;
  for (;;) {
    /* whole frames in the buffer first */
    while (end - start >= HEADER) {
      unsigned char *h = buf + start;
      uint32_t len = get32(h), counter = get32(h + 4);
      unsigned char flags = h[8];
      char why[120];
      if (len < TAG || len > MAX_PLAIN + TAG) {
        snprintf(why, sizeof why, "frame length %u out of bounds", len);
        tampered(r, why);
        return;
      }
      if (end - start < HEADER + (size_t)len) break;
      if (counter != expected) {
        snprintf(why, sizeof why, "frame %u where %u was expected (gap, replay or reorder)", counter, expected);
        tampered(r, why);
        return;
      }
      if ((flags & 2) != (r->reverse ? 2 : 0) || (flags & ~3) != 0) {
        tampered(r, "frame flags invalid");
        return;
      }
      unsigned char *body = h + HEADER;
      size_t plen = len - TAG;
      int outl = 0;
      if (frame_init(r, counter, flags, 0) < 0 || (plen > 0 && EVP_DecryptUpdate(r->ctx, body, &outl, body, (int)plen) != 1) ||
          EVP_CIPHER_CTX_ctrl(r->ctx, EVP_CTRL_GCM_SET_TAG, TAG, body + plen) != 1 || EVP_DecryptFinal_ex(r->ctx, body + plen, &outl) != 1) {
        OPENSSL_cleanse(body, plen);
        snprintf(why, sizeof why, "frame %u failed authentication", counter);
        tampered(r, why);
        return;
      }
      expected++;
      atomic_fetch_add(&r->frames, 1);
      start += HEADER + len;
      if (flags & 1) {
        /* the last frame's payload is for Node's opener only (forward: empty); nothing may follow */
        if (end > start) {
          tampered(r, "data after the last frame");
          return;
        }
        emit(r, EV_LAST, "", "");
        return;
      }
      if (plen > 0) {
        struct iovec iov = {body, plen};
        if (write_all(r, r->out_fd, &iov, 1) < 0) {
          fail(r, "HOST_MIGRATION_FAILED", "the migration stream's QEMU socket failed");
          return;
        }
        atomic_fetch_add(&r->bytes, (unsigned long long)plen);
      }
    }
    if (start > 0) {
      memmove(buf, buf + start, end - start);
      end -= start;
      start = 0;
    }
    /* read the rest of this frame and at most the next header: no more than 9 bytes ever move */
    size_t want = HEADER + MAX_PLAIN + TAG + HEADER - end;
    if (end >= HEADER) want = HEADER + get32(buf) + HEADER - end;
    if (want > cap - end) want = cap - end;
    ssize_t n = read(r->in_fd, buf + end, want);
    if (n > 0) {
      end += (size_t)n;
    } else if (n == 0) {
      char why[120];
      snprintf(why, sizeof why, "stream ended after frame %d without the last frame (truncated)", (int)expected - 1);
      tampered(r, why);
      return;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      /* wake once the rest of the current frame is there, not per segment (TCP honours it in poll) */
      size_t have = end - start, need = HEADER - (have < HEADER ? have : HEADER);
      if (have >= HEADER) need = HEADER + get32(buf + start) - have;
      int want = need < 1 ? 1 : need > MAX_PLAIN ? MAX_PLAIN : (int)need;
      if (want != lowat && setsockopt(r->in_fd, SOL_SOCKET, SO_RCVLOWAT, &want, sizeof want) == 0) lowat = want;
      if (wait_fd(r, r->in_fd, POLLIN) < 0) return;
    } else {
      tampered(r, "migration stream ended without its last frame (connection lost)");
      return;
    }
  }
}

static void *relay_main(void *arg) {
  relay *r = (relay *)arg;
  pthread_setname_np(pthread_self(), r->seal ? "vmcrypt-seal" : "vmcrypt-open");
  size_t cap = r->seal ? MAX_PLAIN : HEADER + MAX_PLAIN + TAG + HEADER;
  unsigned char *buf = (unsigned char *)malloc(cap);
  if (buf == NULL) fail(r, "HOST_MIGRATION_FAILED", "migration tunnel: out of memory");
  else if (r->seal) seal_loop(r, buf);
  else {
    open_loop(r, buf, cap);
    int one = 1;
    setsockopt(r->in_fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one); /* Node may read this socket next */
  }
  if (buf != NULL) {
    OPENSSL_cleanse(buf, cap); /* plaintext of guest memory */
    free(buf);
  }
  napi_release_threadsafe_function(r->tsfn, napi_tsfn_release);
  return NULL;
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
