/*
** parser.y: the grammar of the .pipe language.
**
** The grammar builds an AST (src/ast) in the file's arena; it resolves no
** names (that is the checker's job). Lists are built left-recursively with
** NodeList for O(1) appends. Error recovery: a mistake inside a block skips
** to the next item of that block (the `error` rules below), so one run
** reports every independent mistake of a file.
*/
%require "3.6"
%define api.pure full
%define api.token.prefix {TOK_}
%define api.location.type {Span}
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%lex-param {void *scanner}
%parse-param {void *scanner} {ParseCtx *ctx}

%code requires {
#include "parse/parse_ctx.h"
}


%code {
#include <string.h>

static int yylex(YYSTYPE *lvalp, Span *llocp, void *scanner);
static void yyerror(Span *loc, void *scanner, ParseCtx *ctx, const char *msg);
int pp_yylex(YYSTYPE *lvalp, Span *llocp, void *scanner);
ParseCtx *pp_yyget_extra(void *scanner);

#include "parse/lex_util.h"

#define YYLLOC_DEFAULT(Cur, Rhs, N)                                   \
  do {                                                                \
    if (N) {                                                          \
      (Cur).file = YYRHSLOC(Rhs, 1).file;                             \
      (Cur).start = YYRHSLOC(Rhs, 1).start;                           \
      (Cur).end = YYRHSLOC(Rhs, N).end;                               \
    } else {                                                          \
      (Cur).file = YYRHSLOC(Rhs, 0).file;                             \
      (Cur).start = (Cur).end = YYRHSLOC(Rhs, 0).end;                 \
    }                                                                 \
  } while (0)

#define A ctx->arena
#define NEW(kind, loc) ast_new(A, N_##kind, loc)

/* Deep nesting could overflow the checker's recursion; the lexer bounds
** bracket nesting, and this bounds the parser's own stack. */
#define YYMAXDEPTH 4000

static Node *named(ParseCtx *ctx, NodeKind k, Span loc, const char *name, Span name_loc) {
  Node *n = ast_new(ctx->arena, k, loc);
  n->name = name;
  n->name_span = name_loc;
  return n;
}

/* Gives n the height of its tallest child plus one, and stops the parse
** (one error) when an expression grows taller than the limit. */
static Node *deepen(ParseCtx *ctx, Node *n, const Node *x, const Node *y) {
  int h = x ? x->depth : 0;
  if (y && y->depth > h) h = y->depth;
  n->depth = h + 1;
  if (n->depth > PARSE_MAX_EXPR_DEPTH && !ctx->fatal) {
    diag_error(ctx->diag, n->span, D_TOO_DEEP, "expression nested more than %d deep; split it",
               PARSE_MAX_EXPR_DEPTH);
    ctx->fatal = true;
  }
  return n;
}

static Node *binary(ParseCtx *ctx, Span loc, Op op, Node *l, Node *r) {
  Node *n = ast_new(ctx->arena, N_BINARY, loc);
  n->op = op;
  n->a = l;
  n->b = r;
  return deepen(ctx, n, l, r);
}

static Node *unary(ParseCtx *ctx, Span loc, Op op, Node *x) {
  Node *n = ast_new(ctx->arena, N_UNARY, loc);
  n->op = op;
  n->a = x;
  return deepen(ctx, n, x, NULL);
}

/* A title must be a plain string: it is shown in menus and diagrams. */
static const char *title_of(ParseCtx *ctx, Node *s) {
  if (!s) return NULL;
  if (s->list) {
    diag_error(ctx->diag, s->span, D_TITLE_INTERP, "a title cannot interpolate values");
    return "";
  }
  return s->text;
}

static Node *handler(ParseCtx *ctx, Span loc, HandlerKind hk, Node *arg, Node *cal, int flags,
                     Node *body) {
  Node *n = ast_new(ctx->arena, N_HANDLER, loc);
  n->op = hk;
  n->a = arg;
  n->c = cal;
  n->flags = flags;
  n->b = body;
  return n;
}
}

%union {
  Node *node;
  NodeList list;
  const char *str;
  int num;
}

%token END 0 "end of file"
%token <node> INT "integer" DECIMAL "decimal number" MONEY "money amount"
%token <node> STRING "string" DATE "date" DATETIME "date and time" DURATION "duration"
%token <node> TIME "time of day"
%token <str> IDENT "identifier"
%token <str> STR_HEAD "string with ${...}" STR_MID "string part" STR_TAIL "end of string"
%token DOTDOT ".." ELLIPSIS "..." EQ "==" NE "!=" LE "<=" GE ">=" COALESCE "??" ARROW "->"
%token PACK "pack" VERSION "version" IMPORT "import" CALENDAR "calendar" DEFAULT "default"
%token ROLE "role" USER "user" ROLES "roles" SUPERVISOR "supervisor" ENTITY "entity"
%token REQUIRED "required" EVENT "event" FN "fn" EXTERN "extern" PURE "pure" FROM "from"
%token DIRECTION "direction" FOR "for" STAGE "stage" ON "on" ENTER "enter" LEAVE "leave"
%token CHANGE "change" CREATE "create" AFTER "after" AT "at" EVERY "every" ONCE "once"
%token IN "in" TRIGGER "trigger" WHEN "when" MAY "may" MOVE "move" BACK "back"
%token GUARD "guard" ELSE "else" REQUIRE "require" ACCESS "access" VIEW "view" TO "to"
%token SET "set" LET "let" IF "if" DELETE "delete" NOTIFY "notify" TASK "task" DUE "due"
%token MESSAGE "message" DOCUMENT "document" ASK "ask" TIMEOUT "timeout" WEBHOOK "webhook"
%token CONVERT "convert" INTO "into" WITH "with" RETURN "return" TEST "test"
%token EXPECT "expect" REFUSED "refused" ADVANCE "advance" EMIT "emit" ANSWER "answer"
%token AND "and" OR "or" NOT "not" NUL "null" TRUE "true" FALSE "false" WHERE "where"
%token ENUM "enum" LIST "list" BEHAVIOR "behavior" USE "use"

%type <node> decl pack_decl import_decl calendar_decl cal_item role_decl user_decl
%type <node> entity_decl enum_decl member field_decl type enum_value event_decl fn_decl extern_decl
%type <node> param direction_decl dir_item stage_decl stage_item handler trigger_decl
%type <node> guard_decl require_decl access_decl test_decl block stmt else_part
%type <node> behavior_decl bparam use_decl use_arg
%type <node> expr primary string opt_title opt_cal opt_due opt_type
%type <node> ref event_name target stage_body create_expr ask_expr lvalue
%type <node> init opt_event trigger_clauses opt_msg interp opt_version opt_default opt_timeout
%type <list> decls cal_items members enum_values params opt_params dir_items stage_items
%type <list> stmts args opt_args names refs inits opt_inits payload
%type <list> user_items entity_list bparams opt_bparams use_args opt_use_args
%type <num> stage_mods opt_once opt_back access_kind convert_with
%type <str> word member_name word_path

/* Precedence, lowest first. */
%precedence RETURN_EMPTY
%precedence IDENT
%left OR
%left AND
%precedence NOT
%nonassoc EQ NE '<' LE '>' GE IN
%left COALESCE
%left '+' '-'
%left '*' '/' '%'
%precedence NEG
%precedence '('

%start file

%%

file
  : decls                       { ctx->decls = $1; }
  ;

decls
  : %empty                      { $$ = (NodeList){0}; }
  | decls decl                  { $$ = ast_append($1, $2); }
  | decls error                 { $$ = $1; }
  | decls ';'                   { $$ = $1; }
  ;

decl
  : pack_decl | import_decl | calendar_decl | role_decl | user_decl | entity_decl | enum_decl
  | event_decl | fn_decl | extern_decl | direction_decl | handler | test_decl | behavior_decl
  ;

/* ---- pack, imports --------------------------------------------------- */

pack_decl
  : PACK IDENT opt_title opt_version
      { $$ = named(ctx, N_PACK, @$, $2, @2); $$->title = title_of(ctx, $3);
        if ($4) { $$->text = $4->text; $$->a = $4; } }
  ;

opt_version
  : %empty                      { $$ = NULL; }
  | VERSION string              { $$ = $2; }
  ;

import_decl
  : IMPORT word_path opt_version
      { $$ = named(ctx, N_IMPORT, @$, $2, @2); $$->a = $3; }
  | IMPORT string opt_version
      { $$ = NEW(IMPORT, @$); $$->flags = F_IMPORT_FILE; $$->text = title_of(ctx, $2);
        $$->name_span = @2; $$->a = $3; }
  ;

word_path
  : word
  | word_path '.' word          { $$ = arena_printf(A, "%s.%s", $1, $3); }
  ;

/* ---- calendars --------------------------------------------------------- */

calendar_decl
  : CALENDAR IDENT opt_title '{' cal_items '}'
      { $$ = named(ctx, N_CALENDAR, @$, $2, @2); $$->title = title_of(ctx, $3); $$->list = $5.head; }
  | CALENDAR IDENT opt_title DEFAULT '{' cal_items '}'
      { $$ = named(ctx, N_CALENDAR, @$, $2, @2); $$->title = title_of(ctx, $3);
        $$->flags = F_DEFAULT; $$->list = $6.head; }
  ;

cal_items
  : %empty                      { $$ = (NodeList){0}; }
  | cal_items cal_item          { $$ = ast_append($1, $2); }
  | cal_items error             { $$ = $1; }
  ;

/* timezone "Europe/Moscow" | hours mon..fri 09:00..18:00 | holiday D[..D] | workday D */
cal_item
  : IDENT string                { $$ = lex_cal_setting(ctx, @$, $1, @1, $2, NULL, NULL); }
  | IDENT IDENT TIME DOTDOT TIME
      { $$ = lex_cal_hours(ctx, @$, $1, @1, $2, @2, $2, @2, $3, $5); }
  | IDENT IDENT DOTDOT IDENT TIME DOTDOT TIME
      { $$ = lex_cal_hours(ctx, @$, $1, @1, $2, @2, $4, @4, $5, $7); }
  | IDENT DATE                  { $$ = lex_cal_setting(ctx, @$, $1, @1, NULL, $2, NULL); }
  | IDENT DATE DOTDOT DATE      { $$ = lex_cal_setting(ctx, @$, $1, @1, NULL, $2, $4); }
  ;

/* ---- people ------------------------------------------------------------ */

role_decl
  : ROLE IDENT opt_title        { $$ = named(ctx, N_ROLE, @$, $2, @2); $$->title = title_of(ctx, $3); }
  ;

user_decl
  : USER IDENT opt_title        { $$ = named(ctx, N_USER, @$, $2, @2); $$->title = title_of(ctx, $3); }
  | USER IDENT opt_title '{' user_items '}'
      { $$ = named(ctx, N_USER, @$, $2, @2); $$->title = title_of(ctx, $3);
        for (Node *it = $5.head; it; ) {
          Node *nx = it->next;
          it->next = NULL;
          if (it->kind == N_SUPERVISOR) $$->a = it->a;
          else $$->list = ast_append((NodeList){$$->list, lex_last($$->list)}, it).head;
          it = nx;
        } }
  ;

user_items
  : %empty                      { $$ = (NodeList){0}; }
  | user_items ROLES names      { $$ = $1; for (Node *x = $3.head; x; ) { Node *nx = x->next; x->next = NULL; $$ = ast_append($$, x); x = nx; } }
  | user_items SUPERVISOR IDENT
      { Node *s = NEW(SUPERVISOR, @2); s->a = named(ctx, N_NAME, @3, $3, @3); $$ = ast_append($1, s); }
  ;

/* ---- entities and fields ------------------------------------------------ */

entity_decl
  : ENTITY IDENT '{' members '}'
      { $$ = named(ctx, N_ENTITY, @$, $2, @2); $$->list = $4.head; }
  ;

members
  : %empty                      { $$ = (NodeList){0}; }
  | members member              { $$ = ast_append($1, $2); }
  | members error               { $$ = $1; }
  | members ';'                 { $$ = $1; }
  ;

member
  : field_decl
  | handler
  | use_decl
  ;

field_decl
  : IDENT ':' type opt_title
      { $$ = named(ctx, N_FIELD, @$, $1, @1); $$->a = $3; $$->title = title_of(ctx, $4); }
  | IDENT ':' type opt_title REQUIRED
      { $$ = named(ctx, N_FIELD, @$, $1, @1); $$->a = $3; $$->title = title_of(ctx, $4);
        $$->flags = F_REQUIRED; }
  | IDENT ':' type opt_title '=' expr
      { $$ = named(ctx, N_FIELD, @$, $1, @1); $$->a = $3; $$->title = title_of(ctx, $4); $$->b = $6; }
  ;

type
  : IDENT                       { $$ = named(ctx, N_TYPE_NAME, @$, $1, @1); }
  | USER                        { $$ = named(ctx, N_TYPE_NAME, @$, "user", @1); }
  | ENUM '{' enum_values opt_comma '}' { $$ = NEW(TYPE_ENUM, @$); $$->list = $3.head; }
  | LIST '<' type '>'           { $$ = NEW(TYPE_LIST, @$); $$->a = $3; }
  ;

enum_values
  : enum_value                  { $$ = ast_list1($1); }
  | enum_values ',' enum_value  { $$ = ast_append($1, $3); }
  ;

enum_value
  : IDENT opt_title             { $$ = named(ctx, N_ENUM_VALUE, @$, $1, @1); $$->title = title_of(ctx, $2); }
  ;

opt_title
  : %empty                      { $$ = NULL; }
  | string
  ;

/* A named enum, usable as a field type in several entities. */
enum_decl
  : ENUM IDENT opt_title '{' enum_values opt_comma '}'
      { $$ = named(ctx, N_ENUM_DECL, @$, $2, @2); $$->title = title_of(ctx, $3);
        $$->a = NEW(TYPE_ENUM, @4); $$->a->span.end = @7.end; $$->a->list = $5.head; }
  ;

opt_comma
  : %empty
  | ','
  ;

/* ---- events, functions ---------------------------------------------------- */

event_decl
  : EVENT event_name opt_title payload
      { $$ = named(ctx, N_EVENT_DECL, @$, $2->name, @2); $$->title = title_of(ctx, $3); $$->list = $4.head; }
  ;

payload
  : %empty                      { $$ = (NodeList){0}; }
  | '{' members '}'             { $$ = $2; }
  ;

event_name
  : word                        { $$ = named(ctx, N_EVENT_REF, @$, $1, @$); }
  | event_name '.' word         { $$ = $1; $$->name = arena_printf(A, "%s.%s", $1->name, $3); $$->span = $$->name_span = @$; }
  ;

/* Words that may appear as parts of event names and member names. */
word
  : IDENT | MESSAGE { $$ = "message"; } | DOCUMENT { $$ = "document"; } | TASK { $$ = "task"; }
  | WEBHOOK { $$ = "webhook"; } | USER { $$ = "user"; } | CHANGE { $$ = "change"; }
  | CREATE { $$ = "create"; } | DELETE { $$ = "delete"; } | MOVE { $$ = "move"; }
  | STAGE { $$ = "stage"; } | EVENT { $$ = "event"; } | DIRECTION { $$ = "direction"; }
  | TEST { $$ = "test"; } | CALENDAR { $$ = "calendar"; }
  ;

fn_decl
  : FN IDENT '(' opt_params ')' opt_type block
      { $$ = named(ctx, N_FUNC, @$, $2, @2); $$->list = $4.head; $$->a = $6; $$->b = $7; }
  | FN IDENT '(' opt_params ')' opt_type '=' expr
      { $$ = named(ctx, N_FUNC, @$, $2, @2); $$->list = $4.head; $$->a = $6; $$->b = $8;
        $$->flags = F_EXPR_BODY; }
  ;

extern_decl
  : EXTERN FN IDENT '(' opt_params ')' opt_type FROM string
      { $$ = named(ctx, N_EXTERN, @$, $3, @3); $$->list = $5.head; $$->a = $7; $$->text = title_of(ctx, $9); }
  | EXTERN PURE FN IDENT '(' opt_params ')' opt_type FROM string
      { $$ = named(ctx, N_EXTERN, @$, $4, @4); $$->list = $6.head; $$->a = $8; $$->text = title_of(ctx, $10);
        $$->flags = F_PURE; }
  ;

opt_params
  : %empty                      { $$ = (NodeList){0}; }
  | params
  ;

params
  : param                       { $$ = ast_list1($1); }
  | params ',' param            { $$ = ast_append($1, $3); }
  ;

param
  : IDENT ':' type              { $$ = named(ctx, N_PARAM, @$, $1, @1); $$->a = $3; }
  ;

opt_type
  : %empty                      { $$ = NULL; }
  | ':' type                    { $$ = $2; }
  ;

/* ---- directions and stages ------------------------------------------------ */

direction_decl
  : DIRECTION IDENT opt_title '{' dir_items '}'
      { $$ = named(ctx, N_DIRECTION, @$, $2, @2); $$->title = title_of(ctx, $3); $$->list = $5.head; }
  | DIRECTION IDENT opt_title FOR IDENT '{' dir_items '}'
      { $$ = named(ctx, N_DIRECTION, @$, $2, @2); $$->title = title_of(ctx, $3);
        $$->a = named(ctx, N_TYPE_NAME, @5, $5, @5); $$->list = $7.head; }
  ;

dir_items
  : %empty                      { $$ = (NodeList){0}; }
  | dir_items dir_item          { $$ = ast_append($1, $2); }
  | dir_items error             { $$ = $1; }
  | dir_items ';'               { $$ = $1; }
  ;

dir_item
  : stage_decl
  | handler
  | use_decl
  ;

stage_decl
  : STAGE IDENT opt_title stage_mods stage_body
      { $$ = named(ctx, N_STAGE, @$, $2, @2); $$->title = title_of(ctx, $3);
        $$->op = $4 & 3; $$->flags = $4 & F_AUTO; $$->list = $5 ? $5->list : NULL; }
  | STAGE error '{' stage_items '}' { $$ = NULL; }
  ;

/* success | failure | auto, as plain words */
stage_mods
  : %empty                      { $$ = 0; }
  | stage_mods IDENT            { $$ = lex_stage_mod(ctx, $1, $2, @2); }
  ;

stage_body
  : %empty                      { $$ = NULL; }
  | '{' stage_items '}'         { $$ = NEW(BLOCK, @$); $$->list = $2.head; }
  ;

stage_items
  : %empty                      { $$ = (NodeList){0}; }
  | stage_items stage_item      { $$ = ast_append($1, $2); }
  | stage_items error           { $$ = $1; }
  | stage_items ';'             { $$ = $1; }
  ;

stage_item
  : handler | trigger_decl | guard_decl | require_decl | access_decl | use_decl
  ;

/* ---- behaviors: reusable sets of handlers and rules ------------------------ */

/* behavior NAME(p: type = default, ...) { handlers, triggers, guards, ... } */
behavior_decl
  : BEHAVIOR IDENT opt_bparams '{' stage_items '}'
      { $$ = named(ctx, N_BEHAVIOR, @$, $2, @2); $$->list = $3.head;
        $$->b = NEW(BLOCK, @4); $$->b->span.end = @6.end; $$->b->list = $5.head; }
  ;

opt_bparams
  : %empty                      { $$ = (NodeList){0}; }
  | '(' ')'                     { $$ = (NodeList){0}; }
  | '(' bparams opt_comma ')'   { $$ = $2; }
  ;

bparams
  : bparam                      { $$ = ast_list1($1); }
  | bparams ',' bparam          { $$ = ast_append($1, $3); }
  ;

bparam
  : IDENT ':' type              { $$ = named(ctx, N_PARAM, @$, $1, @1); $$->a = $3; }
  | IDENT ':' type '=' expr     { $$ = named(ctx, N_PARAM, @$, $1, @1); $$->a = $3; $$->b = $5; }
  ;

/* use NAME | use NAME(arg, name = arg, ...) */
use_decl
  : USE IDENT opt_use_args      { $$ = named(ctx, N_USE, @$, $2, @2); $$->list = $3.head; }
  ;

opt_use_args
  : %empty                      { $$ = (NodeList){0}; }
  | '(' ')'                     { $$ = (NodeList){0}; }
  | '(' use_args opt_comma ')'  { $$ = $2; }
  ;

use_args
  : use_arg                     { $$ = ast_list1($1); }
  | use_args ',' use_arg        { $$ = ast_append($1, $3); }
  ;

use_arg
  : expr                        { $$ = NEW(INIT, @$); $$->a = $1; $$->name_span = @$; }
  | IDENT '=' expr              { $$ = named(ctx, N_INIT, @$, $1, @1); $$->a = $3; }
  ;

handler
  : ON ENTER block              { $$ = handler(ctx, @$, HK_ENTER, NULL, NULL, 0, $3); }
  | ON LEAVE block              { $$ = handler(ctx, @$, HK_LEAVE, NULL, NULL, 0, $3); }
  | ON CREATE block             { $$ = handler(ctx, @$, HK_CREATE, NULL, NULL, 0, $3); }
  | ON CHANGE names block       { $$ = handler(ctx, @$, HK_CHANGE, $3.head, NULL, 0, $4); }
  | ON EVENT event_name block   { $$ = handler(ctx, @$, HK_EVENT, $3, NULL, 0, $4); }
  | AFTER expr opt_cal opt_once block { $$ = handler(ctx, @$, HK_AFTER, $2, $3, $4, $5); }
  | AT expr opt_cal opt_once block    { $$ = handler(ctx, @$, HK_AT, $2, $3, $4, $5); }
  | EVERY expr opt_cal block    { $$ = handler(ctx, @$, HK_EVERY, $2, $3, 0, $4); }
  /* recovery: skip a bad header, still read the body */
  | ON error block              { $$ = NULL; }
  | AFTER error block           { $$ = NULL; }
  | AT error block              { $$ = NULL; }
  | EVERY error block           { $$ = NULL; }
  ;

opt_cal
  : %empty                      { $$ = NULL; }
  | IN IDENT                    { $$ = named(ctx, N_NAME, @2, $2, @2); }
  ;

opt_once
  : %empty                      { $$ = 0; }
  | ONCE                        { $$ = F_ONCE; }
  ;

trigger_decl
  : TRIGGER opt_event trigger_clauses opt_back
      { $$ = $3; $$->span = @$; $$->a = $2; $$->flags = $4; }
  ;

opt_event
  : %empty                      { $$ = NULL; }
  | event_name
  ;

/* `from STAGES` and `when COND`, in either order */
trigger_clauses
  : %empty                      { $$ = NEW(TRIGGER, @$); }
  | trigger_clauses FROM refs
      { $$ = $1; if ($$->list) diag_error(ctx->diag, @2, D_SYNTAX, "a trigger has one 'from' list");
        else $$->list = $3.head; }
  | trigger_clauses WHEN expr
      { $$ = $1; if ($$->b) diag_error(ctx->diag, @2, D_SYNTAX, "a trigger has one 'when' condition");
        else $$->b = $3; }
  ;

opt_back
  : %empty                      { $$ = 0; }
  | MAY MOVE BACK               { $$ = F_BACK; }
  ;

guard_decl
  : GUARD expr ELSE string      { $$ = NEW(GUARD, @$); $$->a = $2; $$->b = $4; }
  ;

require_decl
  : REQUIRE names opt_msg       { $$ = NEW(REQUIRE, @$); $$->list = $2.head; $$->b = $3; }
  ;

opt_msg
  : %empty                      { $$ = NULL; }
  | ELSE string                 { $$ = $2; }
  ;

access_decl
  : ACCESS access_kind names    { $$ = NEW(ACCESS, @$); $$->op = $2; $$->list = $3.head; }
  ;

access_kind
  : %empty                      { $$ = AC_ALL; }
  | VIEW                        { $$ = AC_VIEW; }
  | MOVE                        { $$ = AC_MOVE; }
  ;

names
  : IDENT                       { $$ = ast_list1(named(ctx, N_NAME, @1, $1, @1)); }
  | names ',' IDENT             { $$ = ast_append($1, named(ctx, N_NAME, @3, $3, @3)); }
  ;

/* A stage reference: `won` or `regular.won`. */
ref
  : IDENT                       { $$ = named(ctx, N_NAME, @$, $1, @1); }
  | IDENT '.' IDENT
      { $$ = named(ctx, N_MEMBER, @$, $3, @3); $$->a = named(ctx, N_NAME, @1, $1, @1); }
  ;

refs
  : ref                         { $$ = ast_list1($1); }
  | refs ',' ref                { $$ = ast_append($1, $3); }
  ;

/* ---- tests ------------------------------------------------------------- */

test_decl
  : TEST string block           { $$ = NEW(TEST, @$); $$->title = title_of(ctx, $2); $$->name_span = @2; $$->b = $3; }
  ;

/* ---- statements ------------------------------------------------------------ */

block
  : '{' stmts '}'               { $$ = NEW(BLOCK, @$); $$->list = $2.head; }
  ;

stmts
  : %empty                      { $$ = (NodeList){0}; }
  | stmts stmt                  { $$ = ast_append($1, $2); }
  | stmts error                 { $$ = $1; }
  | stmts ';'                   { $$ = $1; }
  ;

stmt
  : LET IDENT opt_type '=' expr
      { $$ = named(ctx, N_LET, @$, $2, @2); $$->b = $3; $$->a = $5; }
  | LET IDENT opt_type '=' create_expr
      { $$ = named(ctx, N_LET, @$, $2, @2); $$->b = $3; $$->a = $5; }
  | LET IDENT opt_type '=' ask_expr
      { $$ = named(ctx, N_LET, @$, $2, @2); $$->b = $3; $$->a = $5; }
  | LET error '=' expr          { $$ = NULL; }
  | SET lvalue '=' expr         { $$ = NEW(SET, @$); $$->a = $2; $$->b = $4; }
  | SET STAGE '=' expr          /* read-only, but let the checker say so */
      { $$ = NEW(SET, @$); $$->a = named(ctx, N_NAME, @2, "stage", @2); $$->b = $4; }
  | SET DIRECTION '=' expr
      { $$ = NEW(SET, @$); $$->a = named(ctx, N_NAME, @2, "direction", @2); $$->b = $4; }
  | lvalue '=' expr             { $$ = NEW(SET, @$); $$->a = $1; $$->b = $3; }
  | IDENT '(' opt_args ')'
      { Node *c = named(ctx, N_CALL, @$, $1, @1); c->list = $3.head;
        $$ = NEW(EXPR_STMT, @$); $$->a = c; }
  | IF expr block else_part     { $$ = NEW(IF, @$); $$->a = $2; $$->b = $3; $$->c = $4; }
  | IF error block else_part    { $$ = NULL; }
  | FOR IDENT IN expr block     { $$ = named(ctx, N_FOR, @$, $2, @2); $$->a = $4; $$->b = $5; }
  | RETURN expr                 { $$ = NEW(RETURN, @$); $$->a = $2; }
  | RETURN %prec RETURN_EMPTY   { $$ = NEW(RETURN, @$); }
  | MOVE TO ref                 { $$ = NEW(MOVE, @$); $$->b = $3; }
  | MOVE expr TO ref            { $$ = NEW(MOVE, @$); $$->a = $2; $$->b = $4; }
  | DELETE                      { $$ = NEW(DELETE, @$); }
  | create_expr                 { $$ = NEW(EXPR_STMT, @$); $$->a = $1; }
  | NOTIFY target expr          { $$ = NEW(NOTIFY, @$); $$->a = $2; $$->b = $3; }
  | TASK target expr opt_due
      { $$ = NEW(TASK, @$); $$->a = $2; $$->b = $3; if ($4) { $$->c = $4->a; $$->d = $4->c; } }
  | MESSAGE IDENT expr          { $$ = named(ctx, N_MESSAGE, @$, $2, @2); $$->b = $3; }
  | MESSAGE IDENT TO primary expr { $$ = named(ctx, N_MESSAGE, @$, $2, @2); $$->a = $4; $$->b = $5; }
  | DOCUMENT IDENT expr opt_inits
      { $$ = named(ctx, N_DOCUMENT, @$, $2, @2); $$->b = $3; $$->list = $4.head; }
  | WEBHOOK expr opt_inits      { $$ = NEW(WEBHOOK, @$); $$->b = $2; $$->list = $3.head; }
  | CONVERT INTO ref convert_with { $$ = NEW(CONVERT, @$); $$->a = $3; $$->flags = $4; }
  | USER IDENT opt_title '{' user_items '}'
      { $$ = named(ctx, N_USER, @$, $2, @2); $$->title = title_of(ctx, $3);
        for (Node *it = $5.head; it; ) {
          Node *nx = it->next;
          it->next = NULL;
          if (it->kind == N_SUPERVISOR) $$->a = it->a;
          else $$->list = ast_append((NodeList){$$->list, lex_last($$->list)}, it).head;
          it = nx;
        } }
  | USER IDENT opt_title        { $$ = named(ctx, N_USER, @$, $2, @2); $$->title = title_of(ctx, $3); }
  | AT DATETIME                 { $$ = NEW(CLOCK, @$); $$->a = $2; }
  | AT DATE                     { $$ = NEW(CLOCK, @$); $$->a = $2; }
  | ADVANCE expr                { $$ = NEW(ADVANCE, @$); $$->a = $2; }
  | ADVANCE TO expr             { $$ = NEW(ADVANCE, @$); $$->a = $3; $$->flags = F_TO; }
  | EMIT event_name opt_inits   { $$ = NEW(EMIT, @$); $$->a = $2; $$->list = $3.head; }
  | EMIT event_name TO expr opt_inits
      { $$ = NEW(EMIT, @$); $$->a = $2; $$->b = $4; $$->list = $5.head; }
  | EXPECT expr                 { $$ = NEW(EXPECT, @$); $$->a = $2; }
  | EXPECT REFUSED block        { $$ = NEW(REFUSED, @$); $$->b = $3; }
  | EXPECT REFUSED block WITH string { $$ = NEW(REFUSED, @$); $$->b = $3; $$->c = $5; }
  | ANSWER expr IDENT '=' expr
      { $$ = named(ctx, N_ANSWER, @$, $3, @3); $$->a = $2; $$->b = $5; }
  ;

else_part
  : %empty                      { $$ = NULL; }
  | ELSE block                  { $$ = $2; }
  | ELSE IF expr block else_part
      { $$ = NEW(IF, @$); $$->span = @2; $$->span.end = @$.end; $$->a = $3; $$->b = $4; $$->c = $5; }
  ;

lvalue
  : IDENT                       { $$ = named(ctx, N_NAME, @$, $1, @1); }
  | lvalue '.' member_name      { $$ = named(ctx, N_MEMBER, @$, $3, @3); $$->a = $1; deepen(ctx, $$, $1, NULL); }
  ;

target
  : ROLE IDENT                  { $$ = named(ctx, N_ROLE_TARGET, @$, $2, @2); }
  | primary
  ;

opt_due
  : %empty                      { $$ = NULL; }
  | DUE expr opt_cal            { $$ = NEW(BLOCK, @$); $$->a = $2; $$->c = $3; }
  ;

convert_with
  : %empty                      { $$ = 0; }
  | WITH entity_list            { $$ = 0; for (Node *x = $2.head; x; x = x->next) $$ |= lex_convert_with(ctx, x); }
  ;

entity_list
  : IDENT                       { $$ = ast_list1(named(ctx, N_NAME, @1, $1, @1)); }
  | entity_list ',' IDENT       { $$ = ast_append($1, named(ctx, N_NAME, @3, $3, @3)); }
  ;

opt_inits
  : %empty                      { $$ = (NodeList){0}; }
  | '{' inits '}'               { $$ = $2; }
  | '{' inits ',' '}'           { $$ = $2; }
  | '{' '}'                     { $$ = (NodeList){0}; }
  ;

inits
  : init                        { $$ = ast_list1($1); }
  | inits ',' init              { $$ = ast_append($1, $3); }
  | inits init                  { $$ = ast_append($1, $2); }
  ;

init
  : IDENT '=' expr              { $$ = named(ctx, N_INIT, @$, $1, @1); $$->a = $3; }
  ;

/* ---- expressions -------------------------------------------------------- */

expr
  : primary
  | expr OR expr                { $$ = binary(ctx, @$, AOP_OR, $1, $3); }
  | expr AND expr               { $$ = binary(ctx, @$, AOP_AND, $1, $3); }
  | NOT expr                    { $$ = unary(ctx, @$, AOP_NOT, $2); }
  | expr EQ expr                { $$ = binary(ctx, @$, AOP_EQ, $1, $3); }
  | expr NE expr                { $$ = binary(ctx, @$, AOP_NE, $1, $3); }
  | expr '<' expr               { $$ = binary(ctx, @$, AOP_LT, $1, $3); }
  | expr LE expr                { $$ = binary(ctx, @$, AOP_LE, $1, $3); }
  | expr '>' expr               { $$ = binary(ctx, @$, AOP_GT, $1, $3); }
  | expr GE expr                { $$ = binary(ctx, @$, AOP_GE, $1, $3); }
  | expr IN '[' opt_args ']'
      { Node *l = NEW(LIST, @3); l->span.end = @5.end; l->list = $4.head;
        $$ = binary(ctx, @$, AOP_IN, $1, l); }
  | expr COALESCE expr          { $$ = binary(ctx, @$, AOP_COALESCE, $1, $3); }
  | expr '+' expr               { $$ = binary(ctx, @$, AOP_ADD, $1, $3); }
  | expr '-' expr               { $$ = binary(ctx, @$, AOP_SUB, $1, $3); }
  | expr '*' expr               { $$ = binary(ctx, @$, AOP_MUL, $1, $3); }
  | expr '/' expr               { $$ = binary(ctx, @$, AOP_DIV, $1, $3); }
  | expr '%' expr               { $$ = binary(ctx, @$, AOP_MOD, $1, $3); }
  | '-' expr %prec NEG          { $$ = unary(ctx, @$, AOP_NEG, $2); }
  ;

primary
  : INT | DECIMAL | MONEY | DATE | DATETIME | DURATION
  | string
  | TRUE                        { $$ = NEW(BOOL, @$); $$->ival = 1; }
  | FALSE                       { $$ = NEW(BOOL, @$); $$->ival = 0; }
  | NUL                         { $$ = NEW(NUL, @$); }
  | IDENT                       { $$ = named(ctx, N_NAME, @$, $1, @1); }
  | STAGE                       { $$ = named(ctx, N_NAME, @$, "stage", @1); }
  | DIRECTION                   { $$ = named(ctx, N_NAME, @$, "direction", @1); }
  | SUPERVISOR                  { $$ = NEW(SUPERVISOR, @$); }
  | EVENT                       { $$ = NEW(EVENT_DATA, @$); }
  | IDENT '(' opt_args ')'      { $$ = named(ctx, N_CALL, @$, $1, @1); $$->list = $3.head; }
  | primary '.' member_name     { $$ = named(ctx, N_MEMBER, @$, $3, @3); $$->a = $1; deepen(ctx, $$, $1, NULL); }
  | '(' expr ')'                { $$ = $2; }
  | '[' opt_args ']'            { $$ = NEW(LIST, @$); $$->list = $2.head; }
  | '[' expr FOR IDENT IN expr ']'
      { $$ = named(ctx, N_COMPREHEND, @$, $4, @4); $$->a = $2; $$->b = $6; }
  | '[' expr FOR IDENT IN expr WHERE expr ']'
      { $$ = named(ctx, N_COMPREHEND, @$, $4, @4); $$->a = $2; $$->b = $6; $$->c = $8; }
  ;

/* After a '.', keywords read as plain names: t.due, t.at, u.supervisor. */
member_name
  : word
  | SUPERVISOR { $$ = "supervisor"; } | ROLES { $$ = "roles"; } | DUE { $$ = "due"; }
  | AT { $$ = "at"; } | FROM { $$ = "from"; } | TO { $$ = "to"; } | DEFAULT { $$ = "default"; }
  | ROLE { $$ = "role"; } | VERSION { $$ = "version"; } | ENTER { $$ = "enter"; }
  | LEAVE { $$ = "leave"; } | VIEW { $$ = "view"; }
  ;

create_expr
  : CREATE IDENT opt_inits      { $$ = named(ctx, N_CREATE, @$, $2, @2); $$->list = $3.head; }
  | CREATE IDENT IN ref opt_inits
      { $$ = named(ctx, N_CREATE, @$, $2, @2); $$->a = $4; $$->list = $5.head; }
  ;

ask_expr
  : ASK target expr ':' type opt_timeout
      { $$ = NEW(ASK, @$); $$->a = $2; $$->b = $3; $$->c = $5; if ($6) { $$->d = $6->a; $$->list = $6->b; } }
  ;

opt_timeout
  : %empty                      { $$ = NULL; }
  | TIMEOUT expr opt_default    { $$ = NEW(BLOCK, @$); $$->a = $2; $$->b = $3; }
  ;

opt_default
  : %empty                      { $$ = NULL; }
  | DEFAULT expr                { $$ = $2; }
  ;

opt_args
  : %empty                      { $$ = (NodeList){0}; }
  | args
  ;

args
  : expr                        { $$ = ast_list1($1); }
  | args ',' expr               { $$ = ast_append($1, $3); }
  ;

string
  : STRING
  | STR_HEAD interp             { $$ = lex_interp(ctx, @$, $1, @1, $2); }
  ;

/* The rest of an interpolated string: expr, then more parts. */
interp
  : expr STR_TAIL               { $$ = lex_interp_part(ctx, $1, $2, @2, NULL); }
  | expr STR_MID interp         { $$ = lex_interp_part(ctx, $1, $2, @2, $3); }
  ;

%%

static int yylex(YYSTYPE *lvalp, Span *llocp, void *scanner) {
  if (pp_yyget_extra(scanner)->fatal) return TOK_END;
  return pp_yylex(lvalp, llocp, scanner);
}

static void yyerror(Span *loc, void *scanner, ParseCtx *ctx, const char *msg) {
  if (ctx->fatal) return;
  if (!strcmp(msg, "memory exhausted")) {
    diag_error(ctx->diag, *loc, D_TOO_DEEP, "the file is nested too deeply to parse");
    ctx->fatal = true;
    return;
  }
  diag_error(ctx->diag, *loc, D_SYNTAX, "%s", msg);
}

/* "unexpected 'when', expected '{' or 'in'", with the token's own text. */
static int yyreport_syntax_error(const yypcontext_t *yyctx, void *scanner, ParseCtx *ctx) {
  if (ctx->fatal) return 0;
  enum { NEXP = 6 };
  yysymbol_kind_t exp[NEXP];
  int n = yypcontext_expected_tokens(yyctx, exp, NEXP);
  yysymbol_kind_t got = yypcontext_token(yyctx);
  Span loc = *yypcontext_location(yyctx);
  if (got == YYSYMBOL_YYEOF && ctx->nesting > 0) {
    /* the file ended inside brackets: point at the one never closed */
    int k = ctx->nesting > PARSE_MAX_NESTING ? PARSE_MAX_NESTING - 1 : ctx->nesting - 1;
    const SrcFile *f = srcset_get(ctx->diag->srcs, loc.file);
    const char *open = f ? f->text + ctx->open[k].start : "{";
    diag_error(ctx->diag, ctx->open[k], D_UNTERM_BLOCK, "this '%c' is never closed", *open);
    diag_note(ctx->diag, loc, "the file ends here");
    return 0;
  }
  StrBuf b = {0};
  if (got == YYSYMBOL_YYEOF) {
    sb_puts(&b, "unexpected end of file");
  } else {
    sb_puts(&b, "unexpected ");
    sb_puts(&b, lex_describe_token(ctx, yysymbol_name(got), loc));
  }
  if (n > 0 && n < NEXP) {
    sb_puts(&b, ", expected ");
    for (int i = 0; i < n; i++) {
      if (i) sb_puts(&b, i == n - 1 ? " or " : ", ");
      sb_puts(&b, lex_quote_symbol(ctx, yysymbol_name(exp[i])));
    }
  }
  diag_error(ctx->diag, loc, D_SYNTAX, "%s", sb_str(&b));
  sb_free(&b);
  /* the usual slips of people who write other languages */
  bool eq_expected = false;
  for (int i = 0; i < n; i++) eq_expected |= exp[i] == YYSYMBOL_EQ;
  if (got == YYSYMBOL_YYEOF) return 0;
  const char *name = yysymbol_name(got);
  if (!strcmp(name, "'&'")) diag_note(ctx->diag, loc, "write 'and'");
  else if (!strcmp(name, "'|'")) diag_note(ctx->diag, loc, "write 'or'");
  else if (!strcmp(name, "'!'")) diag_note(ctx->diag, loc, "write 'not', or '!=' to compare");
  else if (!strcmp(name, "'='") && (eq_expected || n >= NEXP))
    diag_note(ctx->diag, loc, "to compare, write '=='");
  return 0;
}
