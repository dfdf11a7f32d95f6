/*
 * vmcrypt_relay: the thread of one relay (see relay.c). `seal` gathers QEMU's writes into frames of
 * up to 256 KiB, encrypts them in place and sends header, ciphertext and tag in one sendmsg;
 * `open` waits (SO_RCVLOWAT) for the rest of the current frame, checks length, counter and flags,
 * decrypts in place and passes the plaintext to QEMU only after its tag verified. Blocking I/O on
 * the non-blocking fds goes through poll() with the wake pipe, so stop() always gets through.
 */
#include "relay.h"

static int fail(relay *r, const char *code, const char *message) {
  if (!r->stop) relay_emit(r, EV_ERROR, code, message);
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
  relay_emit(r, EV_EOF, "", "");
  /* the last frame goes once Node says the source has let go of the VM */
  pthread_mutex_lock(&r->mu);
  while (!r->finish && !r->stop) pthread_cond_wait(&r->cv, &r->mu);
  int go = r->finish && !r->stop;
  pthread_mutex_unlock(&r->mu);
  if (go && send_frame(r, &counter, buf, 0, 1) == 0) relay_emit(r, EV_LAST, "", "");
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
        relay_emit(r, EV_LAST, "", "");
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

void *relay_main(void *arg) {
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
