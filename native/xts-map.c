/*
 * Mapped I/O for the in-place walk (src/disk/inplace/walk-map.ts): a walk worker maps the file
 * range of its walk once (MAP_SHARED) and converts each window straight from its source bytes to
 * its destination bytes. XTS then reads and writes the page cache itself, where pread + XTS +
 * pwrite had the kernel copy every byte twice (measured on tmpfs, 1 GiB, 2 threads: 0.44–0.52
 * CPU-s instead of 0.68–0.72). Durability is unchanged: fdatasync on the descriptor also writes
 * back pages dirtied through a shared mapping (Linux's msync(MS_SYNC) is the same
 * vfs_fsync_range). The range must lie inside the file (checked when mapping; the walk never
 * changes the file's size while it runs). A read or write error of the storage under a mapping
 * arrives as SIGBUS, not as EIO from pread: a handler (installed once, chaining to any previous
 * one for faults that are not ours) turns a SIGBUS inside convertMapped into an EIO error of
 * that call, as pread/pwrite would have reported it, instead of killing the process.
 * The copy modes (native/xts-copy.c) use the same mappings (read-only for their source) and guard.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xts-state.h"

#define SECTOR 512

/*
 * One mapping per file range and process, shared by the walk's workers (threads of one address
 * space): a page one worker faulted in as a source is then already mapped when another writes it
 * as a destination (with a mapping per worker, every such write faulted the page in again: 2
 * workers used ~50 % more CPU than 1 for the same walk, measured).
 */
typedef struct shared_map {
  dev_t dev;
  ino_t ino;
  uint64_t aligned;
  size_t map_len;
  int writable;
  uint8_t *map;
  int refs;
  struct shared_map *next;
} shared_map;

static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static shared_map *maps;

typedef struct {
  uint32_t magic;
  shared_map *shared; /* NULL once unmapped */
  uint8_t *base;      /* file offset `start` */
  uint64_t start;
  uint64_t length;
} xts_map;

/* The mapping of [aligned, aligned + map_len) of the file, shared, or NULL. */
static shared_map *acquire(int fd, const struct stat *st, uint64_t aligned, size_t map_len, int writable) {
  pthread_mutex_lock(&maps_lock);
  shared_map *s = maps;
  while (s != NULL && !(s->dev == st->st_dev && s->ino == st->st_ino && s->aligned == aligned && s->map_len == map_len && s->writable == writable)) {
    s = s->next;
  }
  if (s != NULL) {
    s->refs++;
  } else {
    void *p = mmap(NULL, map_len, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, (off_t)aligned);
    s = p == MAP_FAILED ? NULL : (shared_map *)calloc(1, sizeof *s);
    if (s == NULL) {
      if (p != MAP_FAILED) munmap(p, map_len);
    } else {
      *s = (shared_map){st->st_dev, st->st_ino, aligned, map_len, writable, (uint8_t *)p, 1, maps};
      maps = s;
    }
  }
  pthread_mutex_unlock(&maps_lock);
  return s;
}

static void release(shared_map *s) {
  pthread_mutex_lock(&maps_lock);
  if (--s->refs == 0) {
    shared_map **pp = &maps;
    while (*pp != s) pp = &(*pp)->next;
    *pp = s->next;
    munmap(s->map, s->map_len);
    free(s);
  }
  pthread_mutex_unlock(&maps_lock);
}

/* Set while this thread touches a mapping in convertMapped: where a SIGBUS jumps back to. */
static __thread sigjmp_buf *bus_jump;
static struct sigaction previous_bus;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;
static int bus_installed;

static void on_bus(int sig, siginfo_t *si, void *uc) {
  if (bus_jump != NULL) siglongjmp(*bus_jump, 1);
  /* Not ours: what would have happened without us. */
  if (previous_bus.sa_flags & SA_SIGINFO) {
    if (previous_bus.sa_sigaction != NULL) {
      previous_bus.sa_sigaction(sig, si, uc);
      return;
    }
  } else if (previous_bus.sa_handler != SIG_DFL && previous_bus.sa_handler != SIG_IGN) {
    previous_bus.sa_handler(sig);
    return;
  }
  signal(SIGBUS, SIG_DFL);
  raise(SIGBUS);
}

static void install_bus(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_bus;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  bus_installed = sigaction(SIGBUS, &sa, &previous_bus) == 0;
}

static napi_value map_error(napi_env env, const char *msg) {
  napi_throw_error(env, "VMCRYPT_XTS", msg);
  return NULL;
}

static void unmap(xts_map *m) {
  if (m->shared != NULL) {
    release(m->shared);
    m->shared = NULL;
    m->base = NULL;
  }
}

static void map_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  unmap((xts_map *)data);
  free(data);
}

static xts_map *map_of(napi_env env, napi_value v) {
  xts_map *m;
  if (napi_get_value_external(env, v, (void **)&m) != napi_ok || m == NULL || m->magic != XTS_MAP_MAGIC) return NULL;
  return m;
}

static int get_offset(napi_env env, napi_value v, uint64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > 9007199254740991.0 || d != (double)(uint64_t)d) return 0;
  *out = (uint64_t)d;
  return 1;
}

/*
 * mapFile(fd, offset, length, readOnly?) -> map handle, or undefined when the range is not inside
 * the file or mmap fails. readOnly: PROT_READ (the copy modes' source, opened O_RDONLY).
 */
static napi_value map_file(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t fd;
  uint64_t offset, length;
  bool read_only = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      !get_offset(env, argv[1], &offset) || !get_offset(env, argv[2], &length) || length == 0 ||
      (argc > 3 && napi_get_value_bool(env, argv[3], &read_only) != napi_ok)) {
    return map_error(env, "mapFile(fd, offset, length, readOnly?)");
  }
  pthread_once(&bus_once, install_bus);
  if (!bus_installed) return NULL; /* no safe way to report an I/O error: the caller uses pread */
  struct stat st;
  long page = sysconf(_SC_PAGESIZE);
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || page <= 0 || offset + length > (uint64_t)st.st_size) return NULL;
  uint64_t aligned = offset - offset % (uint64_t)page;
  size_t map_len = (size_t)(length + (offset - aligned));
  shared_map *shared = acquire(fd, &st, aligned, map_len, !read_only);
  if (shared == NULL) return NULL;
  xts_map *m = (xts_map *)calloc(1, sizeof *m);
  napi_value ext;
  if (m == NULL) {
    release(shared);
    return map_error(env, "out of memory");
  }
  *m = (xts_map){XTS_MAP_MAGIC, shared, shared->map + (offset - aligned), offset, length};
  if (napi_create_external(env, m, map_finalize, NULL, &ext) != napi_ok) {
    unmap(m);
    free(m);
    return map_error(env, "cannot create external");
  }
  return ext;
}

/* unmapFile(map): unmaps now; the handle is dead afterwards. */
static napi_value unmap_file(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  xts_map *m;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || (m = map_of(env, argv[0])) == NULL) {
    return map_error(env, "unmapFile(map)");
  }
  unmap(m);
  return NULL;
}

int xts_all_zero(const uint8_t *p, size_t len) {
  for (size_t i = 0; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8); /* one unaligned-safe load */
    if (w != 0) return 0;
  }
  return 1;
}

typedef struct {
  const uint8_t *in;
  uint8_t *out;
  size_t len;
  xts_state *dec, *enc;
  uint64_t first;
  bool holes;
} convert_job;

/* 1 converted, 0 a hole copied, < 0 an error; no setjmp in here, so nothing can be clobbered. */
static __attribute__((noinline)) int convert(const convert_job *j) {
  if (j->holes && xts_all_zero(j->in, j->len)) {
    memcpy(j->out, j->in, j->len);
    return 0;
  }
  int r = 0;
  if (j->dec != NULL) r = xts_state_crypt(j->dec, j->in, j->out, j->len, SECTOR, j->first);
  if (r == 0 && j->enc != NULL) r = xts_state_crypt(j->enc, j->dec != NULL ? j->out : j->in, j->out, j->len, SECTOR, j->first);
  if (j->dec == NULL && j->enc == NULL) memcpy(j->out, j->in, j->len);
  return r == 0 ? 1 : r;
}

/* fn(arg) with a SIGBUS (a storage error under a mapping) turned into XTS_BUS; fn must not setjmp. */
int xts_map_guarded(int (*fn)(const void *), const void *arg) {
  sigjmp_buf jump;
  if (sigsetjmp(jump, 1) != 0) {
    bus_jump = NULL;
    return XTS_BUS;
  }
  bus_jump = &jump;
  int r = fn(arg);
  bus_jump = NULL;
  return r;
}

static int convert_any(const void *j) { return convert((const convert_job *)j); }

/* The bytes of a live map handle (NULL if v is not one or it is unmapped). */
uint8_t *xts_map_view(napi_env env, napi_value v, uint64_t *start, uint64_t *length, int *writable) {
  xts_map *m = map_of(env, v);
  if (m == NULL || m->shared == NULL) return NULL;
  *start = m->start;
  *length = m->length;
  *writable = m->shared->writable;
  return m->base;
}

/* An optional cipher argument: null/undefined -> NULL; a cipher -> it; else *bad = 1. */
xts_state *xts_opt_state(napi_env env, napi_value v, int *bad) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) {
    *bad = 1;
    return NULL;
  }
  if (t == napi_null || t == napi_undefined) return NULL;
  xts_state *st = xts_state_of(env, v);
  if (st == NULL) *bad = 1;
  return st;
}

/*
 * convertMapped(map, src, dst, len, decrypt: cipher | null, encrypt: cipher | null, firstSector, holes)
 * -> true when converted, false when `holes` and the source was all zeros (copied as zeros).
 * src and dst are file offsets inside the map, len whole sectors, the two ranges apart.
 */
static napi_value convert_mapped(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  xts_map *m;
  uint64_t src, dst, len, first;
  bool holes;
  int bad = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 8 || (m = map_of(env, argv[0])) == NULL ||
      !get_offset(env, argv[1], &src) || !get_offset(env, argv[2], &dst) || !get_offset(env, argv[3], &len) ||
      !get_offset(env, argv[6], &first) || napi_get_value_bool(env, argv[7], &holes) != napi_ok) {
    return map_error(env, "convertMapped(map, src, dst, len, decrypt, encrypt, firstSector, holes)");
  }
  xts_state *dec = xts_opt_state(env, argv[4], &bad);
  xts_state *enc = xts_opt_state(env, argv[5], &bad);
  if (bad) return map_error(env, "decrypt and encrypt must be ciphers or null");
  if (m->shared == NULL) return map_error(env, "file unmapped");
  if (len % SECTOR != 0 || src < m->start || dst < m->start || src - m->start > m->length || dst - m->start > m->length ||
      len > m->length - (src - m->start) || len > m->length - (dst - m->start) || (src > dst ? src - dst : dst - src) < len) {
    return map_error(env, "window outside the mapping or overlapping");
  }
  const convert_job job = {m->base + (src - m->start), m->base + (dst - m->start), (size_t)len, dec, enc, first, holes};
  int r = xts_map_guarded(convert_any, &job);
  if (r == XTS_BUS) {
    napi_throw_error(env, "EIO", "I/O error on the disk under the in-place walk's mapping (SIGBUS)");
    return NULL;
  }
  if (r == XTS_DESTROYED) return map_error(env, "cipher destroyed");
  if (r < 0) return map_error(env, "XTS failed");
  napi_value result;
  napi_get_boolean(env, r == 1, &result);
  return result;
}

void xts_map_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"mapFile", NULL, map_file, NULL, NULL, NULL, napi_default, NULL},
      {"unmapFile", NULL, unmap_file, NULL, NULL, NULL, napi_default, NULL},
      {"convertMapped", NULL, convert_mapped, NULL, NULL, NULL, napi_default, NULL},
  };
  xts_copy_register(env, exports);
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
