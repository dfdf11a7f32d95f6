/*
 * Mapped I/O for the copy modes (src/disk/bulk: encrypt, decrypt, deep rekey into a new file beside
 * the old one): the source mapped read-only, the new file mapped shared, each chunk converted
 * straight from source pages to destination pages (native/xts-map.c holds the mappings and the
 * SIGBUS guard). Where pread + XTS + pwrite had the kernel copy every byte twice, this copies none.
 *
 * The destination range of a chunk is allocated first (fallocate): a full filesystem then fails
 * with ENOSPC from a system call, as pwrite would, instead of a SIGBUS in the middle of a write
 * through the mapping; and the write then finds its pages in the page cache. A chunk left as a
 * hole (an all-zero source of a LUKS file, an all-zero plaintext) is neither allocated nor written,
 * so the new file stays exactly as sparse as on the pread path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xts-state.h"

#define SECTOR 512
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

enum {
  COPY_SOURCE_HOLES = 1, /* an all-zero source chunk is a hole: nothing written */
  COPY_ZERO_HOLES = 2,   /* an all-zero result (decrypt) is a hole: nothing written */
  COPY_ALLOCATE = 4,     /* fallocate the destination range before writing it */
  COPY_POPULATE = 8,     /* then map its pages in one call (MADV_POPULATE_WRITE), not one fault per page */
  COPY_RELEASE = 16,     /* afterwards drop both ranges' page-table entries (MADV_DONTNEED), see release_range */
};

/*
 * Drops the page-table entries of the whole pages inside [p, p + len) of a shared file mapping: the
 * data stays in the page cache (dirty state moves to the page). Done per chunk in the workers, in
 * parallel, instead of all at once in the final munmap — which, for the 2 GiB of entries of a 1 GiB
 * copy, took 0.1–0.25 s after the last chunk (measured) while nothing else ran.
 */
static void release_range(const uint8_t *p, size_t len) {
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t a = (uintptr_t)p + ((uintptr_t)page - (uintptr_t)p % (uintptr_t)page) % (uintptr_t)page;
  uintptr_t b = (uintptr_t)p + len;
  b -= b % (uintptr_t)page;
  if (b > a) (void)madvise((void *)a, b - a, MADV_DONTNEED);
}

typedef struct {
  const uint8_t *in;
  uint8_t *out;
  size_t len;
  xts_state *dec, *enc;
  uint64_t first;
  int flags;
  int fd;
  uint64_t dst_off; /* file offset of out, for fallocate */
  int err;          /* errno of a failed fallocate */
} copy_job;

static int prepare(copy_job *j) {
  /* EOPNOTSUPP (a filesystem without fallocate): the writes allocate, as pwrite's would. */
  if ((j->flags & COPY_ALLOCATE) && fallocate(j->fd, 0, (off_t)j->dst_off, (off_t)j->len) != 0 && errno != EOPNOTSUPP) {
    j->err = errno;
    return -4;
  }
  if (j->flags & COPY_POPULATE) {
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)j->out - (uintptr_t)j->out % (uintptr_t)page;
    uintptr_t b = (uintptr_t)j->out + j->len;
    b += (uintptr_t)page - 1 - (b + (uintptr_t)page - 1) % (uintptr_t)page;
    (void)madvise((void *)a, b - a, MADV_POPULATE_WRITE); /* best effort: faults do the same one page at a time */
  }
  return 0;
}

/* 1 converted, 0 a hole (nothing written), < 0 an error. Runs under xts_map_guarded: no setjmp here. */
static int copy_convert(const void *arg) {
  copy_job *j = (copy_job *)arg;
  if ((j->flags & COPY_SOURCE_HOLES) && xts_all_zero(j->in, j->len)) return 0;
  int r = 0;
  if ((j->flags & COPY_ZERO_HOLES) && j->dec != NULL && j->enc == NULL) {
    /* Random plaintext is non-zero in its first sector; only a chunk that starts with zeros is checked whole. */
    uint8_t head[SECTOR];
    r = xts_state_crypt(j->dec, j->in, head, SECTOR, SECTOR, j->first);
    int zero_head = r == 0 && xts_all_zero(head, SECTOR);
    memset(head, 0, sizeof head);
    if (r != 0) return r;
    if (zero_head) {
      uint8_t *tmp = (uint8_t *)malloc(j->len);
      if (tmp == NULL) return XTS_FAILED;
      r = xts_state_crypt(j->dec, j->in, tmp, j->len, SECTOR, j->first);
      int zero = r == 0 && xts_all_zero(tmp, j->len);
      if (r == 0 && !zero) r = prepare(j);
      if (r == 0 && !zero) memcpy(j->out, tmp, j->len);
      memset(tmp, 0, j->len);
      free(tmp);
      return r != 0 ? r : zero ? 0 : 1;
    }
  }
  if ((r = prepare(j)) != 0) return r;
  if (j->dec != NULL) r = xts_state_crypt(j->dec, j->in, j->out, j->len, SECTOR, j->first);
  if (r == 0 && j->enc != NULL) r = xts_state_crypt(j->enc, j->dec != NULL ? j->out : j->in, j->out, j->len, SECTOR, j->first);
  if (j->dec == NULL && j->enc == NULL) memcpy(j->out, j->in, j->len);
  return r == 0 ? 1 : r;
}

static int get_u64(napi_env env, napi_value v, uint64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > 9007199254740991.0 || d != (double)(uint64_t)d) return 0;
  *out = (uint64_t)d;
  return 1;
}

static napi_value copy_error(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

/*
 * convertCopy(srcMap, src, dstMap, dst, len, decrypt: cipher | null, encrypt: cipher | null,
 *             firstSector, flags, dstFd) -> true when written, false when left a hole.
 * src / dst are file offsets inside their maps (dstMap writable), len whole sectors.
 * Throws code ENOSPC (or another errno name's message) when the range cannot be allocated,
 * EIO on a SIGBUS under either mapping.
 */
static napi_value convert_copy(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  uint64_t src, dst, len, first, s0, sl, d0, dl;
  int32_t flags, fd;
  int bad = 0, sw, dw;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 10 || !get_u64(env, argv[1], &src) ||
      !get_u64(env, argv[3], &dst) || !get_u64(env, argv[4], &len) || !get_u64(env, argv[7], &first) ||
      napi_get_value_int32(env, argv[8], &flags) != napi_ok || napi_get_value_int32(env, argv[9], &fd) != napi_ok) {
    return copy_error(env, "VMCRYPT_XTS", "convertCopy(srcMap, src, dstMap, dst, len, decrypt, encrypt, firstSector, flags, dstFd)");
  }
  const uint8_t *in = xts_map_view(env, argv[0], &s0, &sl, &sw);
  uint8_t *out = xts_map_view(env, argv[2], &d0, &dl, &dw);
  xts_state *dec = xts_opt_state(env, argv[5], &bad);
  xts_state *enc = xts_opt_state(env, argv[6], &bad);
  if (in == NULL || out == NULL || !dw || bad) return copy_error(env, "VMCRYPT_XTS", "convertCopy: bad map or cipher");
  if (len == 0 || len % SECTOR != 0 || src < s0 || src - s0 > sl || len > sl - (src - s0) || dst < d0 || dst - d0 > dl ||
      len > dl - (dst - d0) || in + (src - s0) == out + (dst - d0)) {
    return copy_error(env, "VMCRYPT_XTS", "convertCopy: range outside a mapping");
  }
  copy_job job = {in + (src - s0), out + (dst - d0), (size_t)len, dec, enc, first, flags, fd, dst, 0};
  int r = xts_map_guarded(copy_convert, &job);
  if (flags & COPY_RELEASE) {
    release_range(job.in, job.len);
    release_range(job.out, job.len);
  }
  if (r == XTS_BUS) return copy_error(env, "EIO", "I/O error on a disk under the copy's mapping (SIGBUS)");
  if (r == -4) return copy_error(env, job.err == ENOSPC ? "ENOSPC" : job.err == EDQUOT ? "EDQUOT" : "EIO", strerror(job.err));
  if (r == XTS_DESTROYED) return copy_error(env, "VMCRYPT_XTS", "cipher destroyed");
  if (r < 0) return copy_error(env, "VMCRYPT_XTS", "XTS failed");
  napi_value result;
  napi_get_boolean(env, r == 1, &result);
  return result;
}

void xts_copy_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"convertCopy", NULL, convert_copy, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
