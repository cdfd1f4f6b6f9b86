/*
** smtp_recv.c: a tiny SMTP receiver for tests/delivery.sh, on loopback
** only. It speaks enough of RFC 5321 for libcurl (EHLO/HELO, MAIL, RCPT,
** DATA, RSET, NOOP, QUIT, and AUTH PLAIN/LOGIN, whose credentials it
** appends to DIR/auth.log as sent). Each message's data (dot-unstuffed, CRLF kept)
** is written whole to DIR/N.eml before it is acknowledged, and logged in
** DIR/messages.log as "N CODE FROM RCPT KEY" (KEY: X-Funnel-Key, "-"
** when missing). The first K messages (--fail K) are answered with
** --code (default 451, "try again later") at the end of DATA.
*/
#include <strings.h>

#include "recv_common.h"

typedef struct Conn {
  int fd;
  char buf[8192];
  size_t len, pos;
} Conn;

/* Reads one line (without CRLF) into out; -1 at the end of the connection. */
static int read_line(Conn *c, char *out, size_t n) {
  size_t k = 0;
  for (;;) {
    if (c->pos == c->len) {
      ssize_t r = recv(c->fd, c->buf, sizeof c->buf, 0);
      if (r <= 0) return -1;
      c->len = (size_t)r;
      c->pos = 0;
    }
    char ch = c->buf[c->pos++];
    if (ch == '\n') break;
    if (k + 1 < n) out[k++] = ch;
  }
  if (k && out[k - 1] == '\r') k--;
  out[k] = 0;
  return (int)k;
}

static void reply(Conn *c, const char *s) {
  send_all(c->fd, s, strlen(s));
  send_all(c->fd, "\r\n", 2);
}

static void key_of(const char *msg, char *out, size_t n) {
  snprintf(out, n, "-");
  const char *h = strcasestr(msg, "\r\nX-Funnel-Key:");
  if (!h) return;
  h += 15;
  while (*h == ' ') h++;
  snprintf(out, n, "%.*s", (int)strcspn(h, "\r\n"), h);
}

int main(int argc, char **argv) {
  RecvOpts o;
  memset(&o, 0, sizeof o);
  recv_args(argc, argv, &o, 451);
  recv_signals();
  int s = recv_listen(o.port_file);
  int n = 0;
  for (;;) {
    Conn c = {recv_accept(s), "", 0, 0};
    char line[4096], from[1024] = "-", rcpt[1024] = "-";
    reply(&c, "220 localhost test SMTP receiver");
    while (read_line(&c, line, sizeof line) >= 0) {
      if (!strncasecmp(line, "EHLO", 4)) {
        reply(&c, "250-localhost\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 10485760");
      } else if (!strncasecmp(line, "HELO", 4)) {
        reply(&c, "250 localhost");
      } else if (!strncasecmp(line, "MAIL FROM:", 10)) {
        snprintf(from, sizeof from, "%.*s", (int)strcspn(line + 10, " "), line + 10);
        reply(&c, "250 OK");
      } else if (!strncasecmp(line, "RCPT TO:", 8)) {
        snprintf(rcpt, sizeof rcpt, "%.*s", (int)strcspn(line + 8, " "), line + 8);
        reply(&c, "250 OK");
      } else if (!strcasecmp(line, "DATA")) {
        reply(&c, "354 end with <CRLF>.<CRLF>");
        size_t cap = 1 << 16, len = 0;
        char *msg = malloc(cap);
        int r;
        while ((r = read_line(&c, line, sizeof line)) >= 0) {
          if (!strcmp(line, ".")) break;
          const char *l = line[0] == '.' ? line + 1 : line;
          size_t k = strlen(l);
          if (len + k + 3 > cap) {
            cap = cap * 2 + k;
            msg = realloc(msg, cap);
          }
          memcpy(msg + len, l, k);
          len += k;
          msg[len++] = '\r';
          msg[len++] = '\n';
        }
        msg[len] = 0;
        if (r < 0) {
          free(msg);
          break;
        }
        n++;
        int code = n <= o.fail ? o.code : 250;
        char name[64], key[512], logl[3000];
        snprintf(name, sizeof name, "%d.eml", n);
        write_file(o.dir, name, msg, len);
        key_of(msg, key, sizeof key);
        snprintf(logl, sizeof logl, "%d %d %s %s %s", n, code, from, rcpt, key);
        append_line(o.dir, "messages.log", logl);
        free(msg);
        char resp[64];
        snprintf(resp, sizeof resp, "%d %s", code, code == 250 ? "OK queued" : "test failure");
        reply(&c, resp);
      } else if (!strncasecmp(line, "AUTH PLAIN", 10)) {
        /* the credentials as sent (base64 of "\0user\0password") in auth.log */
        char cred[1024];
        if (line[10] == ' ' && line[11]) {
          snprintf(cred, sizeof cred, "PLAIN %s", line + 11);
        } else {
          reply(&c, "334 ");
          char l2[1000] = "";
          if (read_line(&c, l2, sizeof l2) < 0) break;
          snprintf(cred, sizeof cred, "PLAIN %s", l2);
        }
        append_line(o.dir, "auth.log", cred);
        reply(&c, "235 authenticated");
      } else if (!strcasecmp(line, "AUTH LOGIN")) {
        char u[500] = "", pw[500] = "", cred[1100];
        reply(&c, "334 VXNlcm5hbWU6");
        if (read_line(&c, u, sizeof u) < 0) break;
        reply(&c, "334 UGFzc3dvcmQ6");
        if (read_line(&c, pw, sizeof pw) < 0) break;
        snprintf(cred, sizeof cred, "LOGIN %s %s", u, pw);
        append_line(o.dir, "auth.log", cred);
        reply(&c, "235 authenticated");
      } else if (!strcasecmp(line, "RSET") || !strcasecmp(line, "NOOP")) {
        reply(&c, "250 OK");
      } else if (!strcasecmp(line, "QUIT")) {
        reply(&c, "221 bye");
        break;
      } else {
        reply(&c, "502 not implemented");
      }
    }
    close(c.fd);
  }
}
