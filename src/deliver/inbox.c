/*
** inbox.c: notifications, tasks and questions are delivered into the
** database's inbox table, one item per user (a `role:NAME` target reaches
** everyone who has the role when it is delivered). The worker runs this
** and the outbox row's "delivered" mark in one transaction, so these
** channels are exactly once with no help from a receiver; the inbox keeps
** (key, user) unique besides. `funnel inbox` lists the items.
*/
#include <string.h>

#include "deliver/channel.h"
#include "util/arena.h"

Verdict chan_inbox(Job *j, OutboxDb *db) {
  json_t *user = json_object_get(j->effect, "user");
  if (!json_is_string(user) || !*json_string_value(user))
    return job_fail(j, V_DEAD, "%s: no recipient (the target was empty, e.g. a deal without an owner)",
                    j->row->kind);
  const char *who = json_string_value(user);
  const char **users = &who;
  size_t n = 1;
  Arena a;
  arena_init(&a);
  Verdict v = V_DELIVERED;
  if (!strncmp(who, "role:", 5)) {
    if (outbox_db_role_users(db, who + 5, &users, &n, &a) != ST_OK) {
      v = job_fail(j, V_RETRY, "%s", outbox_db_error(db));
      goto done;
    }
    if (!n) {
      v = job_fail(j, V_DEAD, "%s: nobody has the role %s", j->row->kind, who + 5);
      goto done;
    }
  }
  json_t *due = json_object_get(j->effect, "due_ts");
  InboxItem it = {0};
  it.key = j->row->key;
  it.kind = j->row->kind;
  it.text = effect_text(j->effect, "text");
  it.json = j->row->json;
  it.record = j->row->record;
  it.due = json_is_integer(due) ? json_integer_value(due) : 0;
  it.created = j->row->created;
  it.delivered = j->now;
  for (size_t i = 0; i < n; i++) {
    it.user = users[i];
    if (outbox_db_inbox_put(db, &it) != ST_OK) {
      v = job_fail(j, V_RETRY, "%s", outbox_db_error(db));
      break;
    }
  }
done:
  arena_free(&a);
  return v;
}
