/*
** http_recv.c: a tiny HTTP/1.1 receiver for tests/delivery.sh, on
** loopback only. Each request is written whole to DIR/N.req (request
** line and headers) and DIR/N.body (the body) before it is answered, and
** logged in DIR/requests.log as "N STATUS METHOD PATH KEY" (KEY: the
** Idempotency-Key header, "-" when missing). The first K requests
** (--fail K) are answered with --code (default 500), the rest with 200.
** --delay MS waits before answering (a slow server). One connection at
** a time, Connection: close.
*/
#include <ctype.h>
#include <strings.h>

#include "recv_common.h"

/* The value of header `name` in the header block, copied to out. */
static void header(const char *head, const char *name, char *out, size_t n) {
  size_t len = strlen(name);
  snprintf(out, n, "-");
  for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
    const char *h = p + 2;
    if (!strncasecmp(h, name, len) && h[len] == ':') {
      h += len + 1;
      while (*h == ' ') h++;
      size_t k = strcspn(h, "\r\n");
      snprintf(out, n, "%.*s", (int)k, h);
      return;
    }
  }
}

int main(int argc, char **argv) {
  RecvOpts o;
  memset(&o, 0, sizeof o);
  recv_args(argc, argv, &o, 500);
  recv_signals();
  int s = recv_listen(o.port_file);
  for (int n = 1;; n++) {
    int c = recv_accept(s);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    char *end = NULL;
    while (!end) {
      if (len == cap) {
        cap *= 2;
        buf = realloc(buf, cap + 1);
      }
      ssize_t k = recv(c, buf + len, cap - len, 0);
      if (k <= 0) break;
      len += (size_t)k;
      buf[len] = 0;
      end = strstr(buf, "\r\n\r\n");
    }
    if (!end) {
      close(c);
      free(buf);
      n--;
      continue;
    }
    size_t head_len = (size_t)(end - buf) + 4;
    char *head = strndup(buf, head_len);
    char value[512];
    header(head, "Content-Length", value, sizeof value);
    size_t body_len = strcmp(value, "-") ? (size_t)strtoul(value, NULL, 10) : 0;
    header(head, "Expect", value, sizeof value);
    if (!strcasecmp(value, "100-continue")) send_all(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    while (len < head_len + body_len) {
      if (len == cap) {
        cap = cap * 2 + body_len;
        buf = realloc(buf, cap + 1);
      }
      ssize_t k = recv(c, buf + len, cap - len, 0);
      if (k <= 0) break;
      len += (size_t)k;
    }
    if (len > head_len + body_len) len = head_len + body_len;
    if (o.delay_ms > 0) usleep((useconds_t)o.delay_ms * 1000);
    int status = n <= o.fail ? o.code : 200;
    char name[64], line[2048], method[16] = "", path[1024] = "", key[512];
    sscanf(head, "%15s %1023s", method, path);
    header(head, "Idempotency-Key", key, sizeof key);
    snprintf(name, sizeof name, "%d.req", n);
    write_file(o.dir, name, head, head_len);
    snprintf(name, sizeof name, "%d.body", n);
    write_file(o.dir, name, buf + head_len, len - head_len);
    snprintf(line, sizeof line, "%d %d %s %s %s", n, status, method, path, key);
    append_line(o.dir, "requests.log", line);
    const char *reason = status == 200 ? "OK" : "Test Failure";
    char resp[256];
    int m = snprintf(resp, sizeof resp,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     status, reason, strlen(reason), reason);
    send_all(c, resp, (size_t)m);
    close(c);
    free(head);
    free(buf);
  }
}
