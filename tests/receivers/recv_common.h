/*
** recv_common.h: what the two loopback receivers of tests/delivery.sh
** share: a listening socket on 127.0.0.1 at a free port (written to a
** file once listening, so the test never guesses a port), options, and
** writing a file whole before it is acknowledged (write, then rename).
*/
#ifndef RECV_COMMON_H
#define RECV_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct RecvOpts {
  const char *port_file, *dir;
  int fail;        /* answer the first `fail` requests with `code` */
  int code;
  int delay_ms;    /* http: wait this long before answering each request */
} RecvOpts;

static void recv_usage(const char *prog) {
  fprintf(stderr, "usage: %s --port-file F --dir D [--fail K] [--code N] [--delay MS]\n", prog);
  exit(2);
}

static void recv_args(int argc, char **argv, RecvOpts *o, int default_code) {
  o->code = default_code;
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) recv_usage(argv[0]);
    if (!strcmp(argv[i], "--port-file")) o->port_file = argv[++i];
    else if (!strcmp(argv[i], "--dir")) o->dir = argv[++i];
    else if (!strcmp(argv[i], "--fail")) o->fail = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--code")) o->code = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--delay")) o->delay_ms = atoi(argv[++i]);
    else recv_usage(argv[0]);
  }
  if (!o->port_file || !o->dir) recv_usage(argv[0]);
}

/* Listens on 127.0.0.1 at a port the kernel picks; writes it to port_file. */
static int recv_listen(const char *port_file) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) {
    perror("socket");
    exit(1);
  }
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 16) ||
      getsockname(s, (struct sockaddr *)&a, &len)) {
    perror("bind/listen");
    exit(1);
  }
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
  FILE *f = fopen(tmp, "w");
  if (!f || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 || fclose(f) || rename(tmp, port_file)) {
    perror(port_file);
    exit(1);
  }
  return s;
}

/* Accepts a client with a receive timeout, so that a stuck one cannot hang the receiver. */
static int recv_accept(int s) {
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c >= 0) {
      struct timeval tv = {10, 0};
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      return c;
    }
    if (errno != EINTR) {
      perror("accept");
      exit(1);
    }
  }
}

static int send_all(int c, const char *s, size_t n) {
  while (n) {
    ssize_t k = send(c, s, n, MSG_NOSIGNAL);
    if (k <= 0) return -1;
    s += k;
    n -= (size_t)k;
  }
  return 0;
}

/* Writes dir/name whole (a temporary file renamed into place). */
static void write_file(const char *dir, const char *name, const char *data, size_t n) {
  char path[4096], tmp[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  if (!f || fwrite(data, 1, n, f) != n || fclose(f) || rename(tmp, path)) {
    perror(path);
    exit(1);
  }
}

/* Appends a line to dir/name and flushes it. */
static void append_line(const char *dir, const char *name, const char *line) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "a");
  if (!f) {
    perror(path);
    exit(1);
  }
  fprintf(f, "%s\n", line);
  fclose(f);
}

static volatile sig_atomic_t recv_stop;
static void recv_on_term(int sig) {
  (void)sig;
  recv_stop = 1;
  _exit(0);
}

static void recv_signals(void) {
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, recv_on_term);
  signal(SIGINT, recv_on_term);
}

#endif
