/*
 * vmcrypt_relay internals shared by relay.c (N-API, events, lifecycle) and relay-pump.c (the
 * thread: frames in and out). See relay.c for what a relay is.
 */
#ifndef VMCRYPT_RELAY_H
#define VMCRYPT_RELAY_H
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

/* Posts an event to Node (thread-safe, never blocks). */
void relay_emit(relay *r, int kind, const char *code, const char *message);
/* The relay thread: seals or opens until the input ends, an error, or stop(). */
void *relay_main(void *arg);

#endif
