/*
** config.h: the configuration of `funnel deliver`, read from an INI-like
** file (`key = value` lines under `[section]` headers; docs/delivery.md
** lists every key). Errors name the file and the line.
*/
#ifndef FUNNEL_DELIVER_CONFIG_H
#define FUNNEL_DELIVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An HTTP channel: sms, whatsapp, telegram (templates) or webhook. */
typedef struct HttpConf {
  bool set;                /* the section is in the file */
  char *url;               /* messengers: a template ({{address}} etc., URL-encoded) */
  char *method;            /* POST (default), PUT or GET */
  char *body;              /* messengers: the body template ({{text}} etc., JSON strings) */
  char *content_type;      /* default application/json */
  char **headers;          /* "Name: value", repeatable `header` keys */
  size_t nheaders;
  int64_t timeout;         /* seconds for the whole request */
} HttpConf;

enum { TLS_NONE, TLS_STARTTLS, TLS_SMTPS };

typedef struct SmtpConf {
  bool set;
  char *server;
  int port;                /* default 25 (465 for smtps) */
  int tls;                 /* TLS_* */
  bool verify;             /* check the server's certificate (default yes) */
  char *from;              /* "Name <addr>" or "addr" */
  char *user, *password;   /* optional AUTH */
  char *domain;            /* Message-ID's right-hand side (default: funnel.local) */
  char *subject_prefix;    /* put before the subject (default none) */
  int64_t timeout;
} SmtpConf;

typedef struct DeliverConfig {
  char *path;              /* the file it came from */
  /* [worker] */
  int batch;               /* rows claimed at a time */
  int64_t lease;           /* seconds a claimed row is held before it is due again */
  int64_t interval;        /* --follow: seconds between passes */
  /* [retry] */
  int64_t base, cap;       /* the first delay and the largest (seconds) */
  int64_t factor_milli;    /* the growth of the delay, x1000 (2 = 2000) */
  int max_attempts;        /* dead after this many failed attempts */
  SmtpConf smtp;
  HttpConf sms, whatsapp, telegram, webhook;
  /* [documents] */
  bool documents;
  char *templates, *output;
  /* [natives]: the pack whose effectful natives the worker calls */
  char *natives_pack;
} DeliverConfig;

/* Reads the file into c (defaults for what it leaves out). 0, or -1 with
** "FILE:LINE: message" in err. */
int dconf_load(const char *path, DeliverConfig *c, char *err, size_t errlen);
void dconf_free(DeliverConfig *c);
/* The HTTP channel of a message channel name, NULL for an unknown one. */
const HttpConf *dconf_messenger(const DeliverConfig *c, const char *channel);

#endif
