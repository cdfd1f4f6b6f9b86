/*
** ast.h: the abstract syntax tree. One node struct for every construct,
** with slots whose meaning per kind is written in ast_nodes.def; nodes live
** in the compilation's arena and carry byte spans for diagnostics. The
** checker fills `type` and `sym`; the compiler reads both.
*/
#ifndef FUNNEL_AST_H
#define FUNNEL_AST_H

#include <stdint.h>
#include <stdio.h>

#include "diag/srcfile.h"
#include "util/arena.h"

typedef enum NodeKind {
#define NODE(k, s) N_##k,
#include "ast/ast_nodes.def"
#undef NODE
  N__COUNT
} NodeKind;

typedef enum StageKind { SK_PROGRESS, SK_SUCCESS, SK_FAILURE } StageKind;

typedef enum HandlerKind {
  HK_ENTER, HK_LEAVE, HK_CHANGE, HK_EVENT, HK_CREATE, HK_AFTER, HK_AT, HK_EVERY
} HandlerKind;

typedef enum AccessKind { AC_ALL, AC_VIEW, AC_MOVE } AccessKind;

typedef enum DurUnit {
  DU_MINUTE, DU_HOUR, DU_DAY, DU_WEEK, DU_MONTH, DU_YEAR, DU_WORKDAY, DU_WORKHOUR
} DurUnit;

typedef enum Op {
  AOP_NONE,
  AOP_ADD, AOP_SUB, AOP_MUL, AOP_DIV, AOP_MOD,
  AOP_EQ, AOP_NE, AOP_LT, AOP_LE, AOP_GT, AOP_GE,
  AOP_AND, AOP_OR, AOP_NOT, AOP_NEG, AOP_IN, AOP_COALESCE
} Op;

enum NodeFlags {
  F_DEFAULT = 1 << 0,       /* calendar: the pack's default */
  F_REQUIRED = 1 << 1,      /* field: never empty */
  F_EXPR_BODY = 1 << 2,     /* fn: body is an expression */
  F_PURE = 1 << 3,          /* extern: no side effects */
  F_AUTO = 1 << 4,          /* stage: entered only by robots and triggers */
  F_ONCE = 1 << 5,          /* handler: at most once per record */
  F_BACK = 1 << 6,          /* trigger: may move back */
  F_TO = 1 << 7,            /* advance to a moment */
  F_WITH_CONTACT = 1 << 8,  /* convert: also create a contact */
  F_WITH_COMPANY = 1 << 9,  /* convert: also create a company */
  F_IMPORT_FILE = 1 << 10,  /* import by file path */
  F_INVALID = 1 << 11,      /* calendar item: wrong, already reported */
};

/* What a name or member resolved to: tells the compiler how to read
** Node.sym. */
typedef enum SymKind {
  SYM_NONE, SYM_LOCAL /* sym: the declaring Node */, SYM_FIELD /* Field */,
  SYM_PAYLOAD /* Field of an EventDef */, SYM_USER /* UserDef */, SYM_ENUMVAL /* EnumValue */,
  SYM_STAGE /* Stage */, SYM_DIRECTION /* Direction */, SYM_ROLE /* Role */, SYM_FUNC /* FuncDef */,
  SYM_SELF /* `self`: the current record */
} SymKind;

typedef struct Type Type;
typedef struct Node Node;

struct Node {
  NodeKind kind;
  int op;               /* operator, StageKind, HandlerKind, AccessKind, DurUnit */
  int flags;
  Span span;            /* the whole construct */
  Span name_span;       /* the name, where a caret should point */
  Node *next;           /* next in a list */
  const char *name;
  const char *title;
  const char *text;
  int64_t ival, ival2;
  int depth;            /* expressions: the height of the subtree */
  Node *a, *b, *c, *d;
  Node *list;
  Node *via;            /* an item copied from a behavior: the `use` that copied it */
  /* filled by the checker */
  Type *type;
  void *sym;
  SymKind symk;
};

/* A list under construction: O(1) append from grammar actions. */
typedef struct NodeList {
  Node *head, *tail;
} NodeList;

Node *ast_new(Arena *a, NodeKind kind, Span span);
NodeList ast_list1(Node *n);
NodeList ast_append(NodeList l, Node *n);
size_t ast_list_len(const Node *n);
const char *ast_kind_name(NodeKind k);
const char *ast_op_str(Op op);
const char *ast_unit_str(DurUnit u, int64_t count);

/* A whole program: the declarations of the main file and of every import. */
typedef struct Ast {
  Node *decls;          /* every top-level declaration, imports first */
  Node *pack;           /* the main file's pack header, or NULL */
} Ast;

/* S-expression dump, for tests and --dump-ast. */
void ast_dump(FILE *out, const Node *n);

#endif
