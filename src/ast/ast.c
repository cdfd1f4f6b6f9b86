/*
** ast.c: node construction and the S-expression dump.
*/
#include "ast/ast.h"

#include <inttypes.h>
#include <string.h>

static const char *kind_names[] = {
#define NODE(k, s) s,
#include "ast/ast_nodes.def"
#undef NODE
};

const char *ast_kind_name(NodeKind k) { return k < N__COUNT ? kind_names[k] : "?"; }

Node *ast_new(Arena *a, NodeKind kind, Span span) {
  Node *n = ARENA_NEW(a, Node);
  n->kind = kind;
  n->span = span;
  n->name_span = span;
  return n;
}

NodeList ast_list1(Node *n) {
  NodeList l = {n, n};
  return l;
}

NodeList ast_append(NodeList l, Node *n) {
  if (!n) return l;
  if (!l.head) return ast_list1(n);
  l.tail->next = n;
  l.tail = n;
  return l;
}

size_t ast_list_len(const Node *n) {
  size_t k = 0;
  for (; n; n = n->next) k++;
  return k;
}

const char *ast_op_str(Op op) {
  switch (op) {
  case AOP_ADD: return "+";
  case AOP_SUB: return "-";
  case AOP_MUL: return "*";
  case AOP_DIV: return "/";
  case AOP_MOD: return "%";
  case AOP_EQ: return "==";
  case AOP_NE: return "!=";
  case AOP_LT: return "<";
  case AOP_LE: return "<=";
  case AOP_GT: return ">";
  case AOP_GE: return ">=";
  case AOP_AND: return "and";
  case AOP_OR: return "or";
  case AOP_NOT: return "not";
  case AOP_NEG: return "-";
  case AOP_IN: return "in";
  case AOP_COALESCE: return "??";
  default: return "?";
  }
}

const char *ast_unit_str(DurUnit u, int64_t count) {
  static const char *one[] = {"minute", "hour", "day", "week", "month", "year", "workday", "workhour"};
  static const char *many[] = {"minutes", "hours", "days", "weeks", "months", "years", "workdays",
                               "workhours"};
  if ((unsigned)u > DU_WORKHOUR) return "?";
  return count == 1 ? one[u] : many[u];
}

static void dump(FILE *out, const Node *n, int depth);

static void dump_list(FILE *out, const Node *n, int depth) {
  for (; n; n = n->next) dump(out, n, depth);
}

static void dump(FILE *out, const Node *n, int depth) {
  fprintf(out, "%*s(%s", depth * 2, "", ast_kind_name(n->kind));
  if (n->name) fprintf(out, " %s", n->name);
  if (n->title) fprintf(out, " \"%s\"", n->title);
  if (n->text) fprintf(out, " '%s'", n->text);
  switch (n->kind) {
  case N_UNARY:
  case N_BINARY: fprintf(out, " %s", ast_op_str((Op)n->op)); break;
  case N_DURATION: fprintf(out, " %" PRId64 " %s", n->ival, ast_unit_str((DurUnit)n->op, n->ival)); break;
  case N_BOOL: fprintf(out, " %s", n->ival ? "true" : "false"); break;
  case N_STAGE:
    if (n->op == SK_SUCCESS) fprintf(out, " success");
    if (n->op == SK_FAILURE) fprintf(out, " failure");
    break;
  case N_HANDLER: {
    static const char *hk[] = {"enter", "leave", "change", "event", "create", "after", "at", "every"};
    fprintf(out, " %s", hk[n->op]);
    break;
  }
  case N_ACCESS: fprintf(out, " %s", n->op == AC_VIEW ? "view" : n->op == AC_MOVE ? "move" : "all"); break;
  case N_CAL_HOURS:
    fprintf(out, " %02d:%02d..%02d:%02d", (int)(n->ival / 60), (int)(n->ival % 60),
            (int)(n->ival2 / 60), (int)(n->ival2 % 60));
    break;
  default: break;
  }
  if (n->flags) fprintf(out, " flags=%d", n->flags);
  fputc('\n', out);
  const Node *kids[] = {n->a, n->b, n->c, n->d};
  for (int i = 0; i < 4; i++)
    if (kids[i]) dump_list(out, kids[i], depth + 1);  /* a slot may hold a list */
  dump_list(out, n->list, depth + 1);
  fprintf(out, "%*s)\n", depth * 2, "");
}

void ast_dump(FILE *out, const Node *n) { dump_list(out, n, 0); }
