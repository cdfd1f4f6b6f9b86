/*
** check_document.c: documents (src/deliver): the template language
** (doc_template.c: values, escaping, #if, #each, @number, filters,
** partials and their arguments, every syntax error with its line), the
** HTML subset reader (doc_html.c: blocks, tables, entities, malformed
** input, and well-formed Pango markup for any input, 3,000 random ones
** included), and doc_render's files (both written, neither on error).
*/
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pango/pango.h>

#include "deliver/doc_html.h"
#include "deliver/doc_template.h"
#include "deliver/document.h"

static char err[512];
static StrBuf out;

/* Fills `tpl` with the params in JSON `params`; returns the text, or NULL
** with the message in err. Valid until the next call. */
static const char *fill_in(const char *dir, const char *tpl, const char *params) {
  json_error_t je;
  json_t *p = json_loads(params, 0, &je);
  ck_assert_msg(p != NULL, "bad test params: %s", je.text);
  sb_free(&out);
  err[0] = 0;
  int rc = dtpl_fill_text(tpl, "t.html", dir, p, &out, err, sizeof err);
  json_decref(p);
  return rc ? NULL : sb_str(&out);
}

static const char *fill(const char *tpl, const char *params) { return fill_in(NULL, tpl, params); }

#define ck_fill(tpl, params, want) ck_assert_str_eq(fill((tpl), (params)) ? sb_str(&out) : err, (want))
#define ck_fill_err(tpl, params, msg)                                                      \
  do {                                                                                     \
    ck_assert_msg(fill((tpl), (params)) == NULL, "no error for %s", (tpl));                \
    ck_assert_str_eq(err, (msg));                                                          \
  } while (0)

static void teardown(void) { sb_free(&out); }

/* ---- values --------------------------------------------------------------------------------- */

START_TEST(values) {
  ck_fill("plain text, no tags", "{}", "plain text, no tags");
  ck_fill("", "{}", "");
  ck_fill("Привет, {{name}}!", "{\"name\":\"Мир\"}", "Привет, Мир!");
  ck_fill("{{ name }}|{{n}}|{{r}}|{{t}}|{{f}}|{{z}}", "{\"name\":\"x\",\"n\":-42,\"r\":1.5,\"t\":true,\"f\":false,\"z\":null}",
          "x|-42|1.5|да|нет|");
  ck_fill("{{a.b.c}}", "{\"a\":{\"b\":{\"c\":\"deep\"}}}", "deep");
  ck_fill("{{x}}", "{\"x\":\"<b>&'\\\"</b>\"}", "&lt;b&gt;&amp;&#39;&quot;&lt;/b&gt;");
  ck_fill("{{! a comment {{x}}after", "{}", "after"); /* a comment ends at the first }} */
  ck_fill("{{! line one\nline two }}x", "{}", "x");
  ck_fill("{ single } braces {x}", "{}", "{ single } braces {x}");
}
END_TEST

START_TEST(value_errors) {
  ck_fill_err("a\n\nb {{who}}", "{\"amount\":1,\"note\":\"x\"}",
              "t.html:3: no param 'who' for {{who}} (the params are: amount, note)");
  ck_fill_err("{{who|date}}", "{}", "t.html:1: no param 'who' for {{who|date}} (the params are: none)");
  ck_fill_err("{{a.b}}", "{\"a\":{}}", "t.html:1: no param 'a.b' for {{a.b}} (the params are: a)");
  ck_fill_err("{{a.b}}", "{\"a\":\"text\"}", "t.html:1: no param 'a.b' for {{a.b}} (the params are: a)");
  ck_fill_err("{{l}}", "{\"l\":[1]}", "t.html:1: {{l}} is a list, not a value (use {{#each}})");
  ck_fill_err("{{o}}", "{\"o\":{\"k\":1}}", "t.html:1: {{o}} is a object, not a value");
  ck_fill_err("{{@number}}", "{}", "t.html:1: {{@number}} outside {{#each}}");
}
END_TEST

/* ---- blocks --------------------------------------------------------------------------------- */

START_TEST(conditions) {
  const char *t = "{{#if v}}yes{{else}}no{{/if}}";
  ck_fill(t, "{\"v\":\"x\"}", "yes");
  ck_fill(t, "{\"v\":1}", "yes");
  ck_fill(t, "{\"v\":true}", "yes");
  ck_fill(t, "{\"v\":[0]}", "yes");
  ck_fill(t, "{\"v\":{\"a\":1}}", "yes");
  ck_fill(t, "{\"v\":\"\"}", "no");
  ck_fill(t, "{\"v\":0}", "no");
  ck_fill(t, "{\"v\":0.0}", "no");
  ck_fill(t, "{\"v\":false}", "no");
  ck_fill(t, "{\"v\":null}", "no");
  ck_fill(t, "{\"v\":[]}", "no");
  ck_fill(t, "{\"v\":{}}", "no");
  ck_fill(t, "{}", "no"); /* a missing name is false, not an error */
  ck_fill("{{#if a}}{{#if b}}ab{{else}}a{{/if}}{{/if}}", "{\"a\":1,\"b\":0}", "a");
  ck_fill("{{#if a}}x{{/if}}", "{}", "");
}
END_TEST

START_TEST(loops) {
  ck_fill("{{#each l}}[{{@number}}:{{.}}]{{/each}}", "{\"l\":[\"a\",\"b\",3]}", "[1:a][2:b][3:3]");
  ck_fill("{{#each l}}{{name}}={{sum}}/{{cur}};{{/each}}",
          "{\"cur\":\"RUB\",\"l\":[{\"name\":\"x\",\"sum\":1},{\"name\":\"y\",\"sum\":2,\"cur\":\"USD\"}]}",
          "x=1/RUB;y=2/USD;");
  ck_fill("{{#each a}}{{#each b}}{{@number}}{{/each}}|{{@number}} {{/each}}",
          "{\"a\":[{\"b\":[1,2,3]},{\"b\":[]}]}", "123|1 |2 ");
  ck_fill("{{#each l}}x{{/each}}", "{\"l\":null}", "");
  ck_fill("{{#each l}}x{{/each}}", "{\"l\":[]}", "");
  ck_fill_err("{{#each l}}x{{/each}}", "{}", "t.html:1: no param 'l' for {{#each l}} (guard it with {{#if l}})");
  ck_fill_err("\n{{#each l}}x{{/each}}", "{\"l\":\"text\"}", "t.html:2: {{#each l}}: 'l' is not a list");
  ck_fill_err("{{#each l}}{{nope}}{{/each}}", "{\"l\":[{\"a\":1}]}",
              "t.html:1: no param 'nope' for {{nope}} (the params are: l)");
}
END_TEST

/* ---- filters -------------------------------------------------------------------------------- */

#define NB "\xc2\xa0"

START_TEST(money) {
  const char *t = "{{m|money}}";
  ck_fill(t, "{\"m\":\"150000.00 RUB\"}", "150" NB "000,00" NB "руб.");
  ck_fill(t, "{\"m\":\"0.05 RUB\"}", "0,05" NB "руб.");
  ck_fill(t, "{\"m\":\"-1234567.89 USD\"}", "-1" NB "234" NB "567,89" NB "USD");
  ck_fill(t, "{\"m\":\"999.99 EUR\"}", "999,99" NB "EUR");
  ck_fill(t, "{\"m\":null}", "");
  ck_fill_err(t, "{\"m\":\"150000\"}", "t.html:1: {{m|money}}: \"150000\" is not money (like \"1500.00 RUB\")");
  ck_fill_err(t, "{\"m\":\"1.5 RUB\"}", "t.html:1: {{m|money}}: \"1.5 RUB\" is not money (like \"1500.00 RUB\")");
  ck_fill_err(t, "{\"m\":\"1.50 rub\"}", "t.html:1: {{m|money}}: \"1.50 rub\" is not money (like \"1500.00 RUB\")");
  ck_fill_err(t, "{\"m\":150}", "t.html:1: {{m|money}}: 150 is not money (like \"1500.00 RUB\")");
  ck_fill_err(t, "{\"m\":\"1.50 RUBX\"}", "t.html:1: {{m|money}}: \"1.50 RUBX\" is not money (like \"1500.00 RUB\")");
  ck_fill_err(t, "{\"m\":\"1234567890123456.00 RUB\"}",
              "t.html:1: {{m|money}}: \"1234567890123456.00 RUB\" is not money (like \"1500.00 RUB\")");
}
END_TEST

static const struct { const char *m, *words; } words_cases[] = {
  {"0.00 RUB", "Ноль рублей 00 копеек"},
  {"1.01 RUB", "Один рубль 01 копейка"},
  {"2.02 RUB", "Два рубля 02 копейки"},
  {"5.05 RUB", "Пять рублей 05 копеек"},
  {"11.11 RUB", "Одиннадцать рублей 11 копеек"},
  {"12.00 RUB", "Двенадцать рублей 00 копеек"},
  {"21.21 RUB", "Двадцать один рубль 21 копейка"},
  {"22.22 RUB", "Двадцать два рубля 22 копейки"},
  {"100.00 RUB", "Сто рублей 00 копеек"},
  {"111.00 RUB", "Сто одиннадцать рублей 00 копеек"},
  {"1000.00 RUB", "Одна тысяча рублей 00 копеек"},
  {"2000.00 RUB", "Две тысячи рублей 00 копеек"},
  {"5000.00 RUB", "Пять тысяч рублей 00 копеек"},
  {"11000.00 RUB", "Одиннадцать тысяч рублей 00 копеек"},
  {"21001.00 RUB", "Двадцать одна тысяча один рубль 00 копеек"},
  {"150000.00 RUB", "Сто пятьдесят тысяч рублей 00 копеек"},
  {"999999.99 RUB", "Девятьсот девяносто девять тысяч девятьсот девяносто девять рублей 99 копеек"},
  {"1000000.00 RUB", "Один миллион рублей 00 копеек"},
  {"2002002.00 RUB", "Два миллиона две тысячи два рубля 00 копеек"},
  {"5000000000.00 RUB", "Пять миллиардов рублей 00 копеек"},
  {"1000000000000.00 RUB", "Один триллион рублей 00 копеек"},
  {"999000000000000.00 RUB", "Девятьсот девяносто девять триллионов рублей 00 копеек"},
  {"-5.00 RUB", "Минус пять рублей 00 копеек"},
  {"300.50 USD", "Триста USD 50/100"},
};

START_TEST(words) {
  char params[128];
  snprintf(params, sizeof params, "{\"m\":\"%s\"}", words_cases[_i].m);
  ck_fill("{{m|words}}", params, words_cases[_i].words);
}
END_TEST

START_TEST(dates) {
  ck_fill("{{d|date}} {{d|longdate}}", "{\"d\":\"2026-03-05\"}", "05.03.2026 5 марта 2026 г.");
  ck_fill("{{d|date}} {{d|longdate}}", "{\"d\":\"2026-12-31T23:59:00+03:00\"}", "31.12.2026 31 декабря 2026 г.");
  ck_fill("{{d|longdate}}", "{\"d\":\"2025-01-01 10:00\"}", "1 января 2025 г.");
  ck_fill_err("{{d|date}}", "{\"d\":\"05.03.2026\"}", "t.html:1: {{d|date}}: \"05.03.2026\" is not a date (like \"2026-01-12\")");
  ck_fill_err("{{d|longdate}}", "{\"d\":\"2026-13-01\"}", "t.html:1: {{d|longdate}}: \"2026-13-01\" is not a date (like \"2026-01-12\")");
  ck_fill_err("{{d|date}}", "{\"d\":\"2026-01-01X\"}", "t.html:1: {{d|date}}: \"2026-01-01X\" is not a date (like \"2026-01-12\")");
}
END_TEST

/* ---- syntax errors: nothing is rendered, the line is given -------------------------------- */

static const struct { const char *tpl, *msg; } syntax_cases[] = {
  {"a\n{{#if x}}\nb", "t.html:2: {{#if x}} is not closed (no {{/if}})"},
  {"{{#each x}}", "t.html:1: {{#each x}} is not closed (no {{/each}})"},
  {"{{#if x}}\n{{/each}}", "t.html:2: {{/each}} closes {{#if x}} opened at line 1"},
  {"{{#each x}}{{/if}}", "t.html:1: {{/if}} closes {{#each x}} opened at line 1"},
  {"x\n{{/if}}", "t.html:2: {{/if}} without an open {{#if}}"},
  {"{{/while}}", "t.html:1: unknown closing tag {{/while}} ({{/if}} or {{/each}})"},
  {"{{else}}", "t.html:1: {{else}} outside {{#if}}"},
  {"{{#each x}}{{else}}{{/each}}", "t.html:1: {{else}} outside {{#if}}"},
  {"{{#if x}}{{else}}\n{{else}}{{/if}}", "t.html:2: a second {{else}} in {{#if x}}"},
  {"{{#unless x}}{{/unless}}", "t.html:1: unknown block {{#unless x}} (blocks are {{#if NAME}} and {{#each NAME}})"},
  {"{{#if}}{{/if}}", "t.html:1: {{#if}} needs a name"},
  {"{{#if @number}}{{/if}}", "t.html:1: {{#if @number}} needs a name"},
  {"{{x|upper}}", "t.html:1: unknown filter 'upper' in {{x|upper}} (money, words, date, longdate)"},
  {"{{a b}}", "t.html:1: '{{a b}}' is not a name (letters, digits, _ and -, joined by dots)"},
  {"{{a..b}}", "t.html:1: '{{a..b}}' is not a name (letters, digits, _ and -, joined by dots)"},
  {"{{}}", "t.html:1: '{{}}' is not a name (letters, digits, _ and -, joined by dots)"},
  {"{{{x}}}", "t.html:1: '{{{x}}' is not a name (letters, digits, _ and -, joined by dots)"},
  {"a {{x", "t.html:1: unterminated {{ (no }} on the same line)"},
  {"{{x\n}}", "t.html:1: unterminated {{ (no }} on the same line)"},
  {"\n\n{{! no end", "t.html:3: unterminated {{! comment (no }})"},
  {"{{> _x}}", "t.html:1: {{> _x}}: no template directory for partials"},
  {"{{#if a}}{{x|nope}}{{/if}}", "t.html:1: unknown filter 'nope' in {{x|nope}} (money, words, date, longdate)"},
};

START_TEST(syntax) {
  /* the params would make every value render: the error is the template's */
  ck_fill_err(syntax_cases[_i].tpl, "{\"x\":[1],\"a\":1}", syntax_cases[_i].msg);
}
END_TEST

START_TEST(nesting_limit) {
  StrBuf t = {0};
  for (int i = 0; i < DTPL_MAX_NEST + 1; i++) sb_puts(&t, "{{#if a}}");
  for (int i = 0; i < DTPL_MAX_NEST + 1; i++) sb_puts(&t, "{{/if}}");
  ck_fill_err(t.s, "{\"a\":1}", "t.html:1: blocks nested deeper than 64");
  sb_clear(&t);
  for (int i = 0; i < DTPL_MAX_NEST; i++) sb_puts(&t, "{{#if a}}");
  sb_puts(&t, "deep");
  for (int i = 0; i < DTPL_MAX_NEST; i++) sb_puts(&t, "{{/if}}");
  ck_fill(t.s, "{\"a\":1}", "deep");
  sb_free(&t);
}
END_TEST

START_TEST(names) {
  ck_assert(dtpl_name_ok("body-repair-invoice"));
  ck_assert(dtpl_name_ok("счёт"));
  ck_assert(dtpl_name_ok("a.b"));
  ck_assert(!dtpl_name_ok(""));
  ck_assert(!dtpl_name_ok(NULL));
  ck_assert(!dtpl_name_ok(".hidden"));
  ck_assert(!dtpl_name_ok(".."));
  ck_assert(!dtpl_name_ok("../etc/passwd"));
  ck_assert(!dtpl_name_ok("a/b"));
  ck_assert(!dtpl_name_ok("a\\b"));
  char longname[DTPL_MAX_NAME + 2];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = 0;
  ck_assert(!dtpl_name_ok(longname));
  longname[DTPL_MAX_NAME] = 0;
  ck_assert(dtpl_name_ok(longname));
}
END_TEST

/* ---- partials, in a directory of its own -------------------------------------------------- */

static char dir[64];

static void put(const char *name, const char *text) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  ck_assert(f != NULL);
  fputs(text, f);
  fclose(f);
}

static void dir_setup(void) {
  snprintf(dir, sizeof dir, "/tmp/check_document.XXXXXX");
  ck_assert(mkdtemp(dir) != NULL);
}

static void dir_teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
  sb_free(&out);
  doc_shutdown(); /* the test may have rendered: release pango's caches before the process ends */
}

START_TEST(partials) {
  put("_line.html", "[{{label}}: {{v}}]\n");
  put("_self.html", "{{> _self}}");
  put("_bad.html", "ok\n{{#if x}}");
  put("_args.html", "{{\"unused\"}}");
  ck_assert_str_eq(fill_in(dir, "a{{> _line label=\"Итого\"}}b", "{\"v\":1}"), "a[Итого: 1]b");
  /* arguments are inner to the params; the params stay visible */
  ck_assert_str_eq(fill_in(dir, "{{> _line label=\"x\" v=\"arg\"}}{{v}}", "{\"v\":1,\"label\":\"p\"}"),
                   "[x: arg]1");
  ck_assert_str_eq(fill_in(dir, "{{#each l}}{{> _line label=\"n\"}}{{/each}}", "{\"l\":[{\"v\":1},{\"v\":2}]}"),
                   "[n: 1][n: 2]");
  ck_assert_ptr_null(fill_in(dir, "x\n{{> _self}}", "{}"));
  ck_assert_msg(strstr(err, "_self.html:1: {{> _self}}: partials nested deeper than 8") != NULL, "%s", err);
  ck_assert_ptr_null(fill_in(dir, "{{> _bad}}", "{}"));
  ck_assert_msg(strstr(err, "/_bad.html:2: {{#if x}} is not closed (no {{/if}})") != NULL, "%s", err);
  ck_assert_ptr_null(fill_in(dir, "\n{{> _none}}", "{}"));
  ck_assert_msg(strstr(err, "t.html:2: {{> _none}}: cannot read ") != NULL &&
                strstr(err, "/_none.html: No such file or directory") != NULL, "%s", err);
  ck_assert_ptr_null(fill_in(dir, "{{> ../x}}", "{}"));
  ck_assert_str_eq(err, "t.html:1: {{> NAME}}: '../x' is not a template name");
  ck_assert_ptr_null(fill_in(dir, "{{> _line label=x}}", "{}"));
  ck_assert_str_eq(err, "t.html:1: {{> _line}}: arguments are NAME=\"text\" (at 'label=x')");
  ck_assert_ptr_null(fill_in(dir, "{{> _line label=\"x}}", "{}"));
  ck_assert_str_eq(err, "t.html:1: {{> _line}}: arguments are NAME=\"text\" (at 'label=\"x')");
}
END_TEST

static int exists(const char *name) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return access(path, F_OK) == 0;
}

START_TEST(render_files) {
  put("doc.html", "<h1>Счёт {{n}}</h1><p>{{m|money}}</p>");
  json_t *p = json_pack("{s:s,s:s}", "n", "№1 <x>", "m", "10.00 RUB");
  char html[128], pdf[128];
  snprintf(html, sizeof html, "%s/out.html", dir);
  snprintf(pdf, sizeof pdf, "%s/out.pdf", dir);
  ck_assert_int_eq(doc_render(dir, "doc", p, html, pdf, err, sizeof err), 0);
  FILE *f = fopen(html, "r");
  char buf[256] = "";
  ck_assert(f && fgets(buf, sizeof buf, f));
  fclose(f);
  ck_assert_str_eq(buf, "<h1>Счёт №1 &lt;x&gt;</h1><p>10,00" NB "руб.</p>");
  f = fopen(pdf, "rb");
  ck_assert(f && fread(buf, 1, 5, f) == 5);
  fclose(f);
  ck_assert(!memcmp(buf, "%PDF-", 5));
  /* an error writes nothing: not the PDF, not a temporary file */
  json_object_del(p, "m");
  unlink(html);
  unlink(pdf);
  ck_assert_int_eq(doc_render(dir, "doc", p, html, pdf, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "doc.html:1: no param 'm' for {{m|money}}") != NULL, "%s", err);
  ck_assert(!exists("out.html") && !exists("out.pdf"));
  ck_assert_int_eq(doc_render(dir, "nope", p, html, pdf, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "no template 'nope': cannot read ") != NULL, "%s", err);
  /* only the HTML, only the PDF */
  json_object_set_new(p, "m", json_string("1.00 RUB"));
  ck_assert_int_eq(doc_render(dir, "doc", p, html, NULL, err, sizeof err), 0);
  ck_assert(exists("out.html") && !exists("out.pdf"));
  ck_assert_int_eq(doc_render(dir, "doc", p, NULL, pdf, err, sizeof err), 0);
  ck_assert(exists("out.pdf"));
  /* an HTML path that is a directory: no PDF is left either */
  unlink(pdf);
  ck_assert_int_eq(doc_render(dir, "doc", p, dir, pdf, err, sizeof err), -1);
  ck_assert_msg(strstr(err, ": Is a directory") != NULL, "%s", err);
  ck_assert(!exists("out.pdf"));
  json_decref(p);
}
END_TEST

/* ---- the HTML subset ------------------------------------------------------------------------ */

/* Parses html and checks that every block's and cell's markup is well
** formed Pango markup. */
static void parse_ok(const char *html, size_t len, HtmlDoc *d) {
  memset(d, 0, sizeof *d);
  html_parse(html, len, d);
  for (size_t i = 0; i < d->n; i++) {
    const HtmlBlock *b = &d->blocks[i];
    if (b->markup)
      ck_assert_msg(pango_parse_markup(b->markup, -1, 0, NULL, NULL, NULL, NULL), "bad markup '%s'",
                    b->markup);
    for (size_t r = 0; r < b->nrows; r++)
      for (size_t c = 0; c < b->rows[r].n; c++)
        ck_assert_msg(pango_parse_markup(b->rows[r].cells[c].markup, -1, 0, NULL, NULL, NULL, NULL),
                      "bad markup '%s'", b->rows[r].cells[c].markup);
  }
}

START_TEST(html_blocks) {
  HtmlDoc d;
  const char *h = "<html><head><title> Счёт\n № 1 </title><style>p{}</style></head><body>"
                  "<h1>Заголовок</h1>  <p align=\"center\">Один   <b>два</b>\n три</p>"
                  "<p class=\"right\">a &amp; b &lt;c&gt; &laquo;q&raquo; &#8470;&#x41;</p>"
                  "<hr><ul><li>x<li>y</ul><ol><li>p</li><li>q</li></ol>"
                  "<div class=\"page-break\"></div><p>z<br>w</p></body></html>";
  parse_ok(h, strlen(h), &d);
  ck_assert_str_eq(d.title, "Счёт № 1");
  ck_assert_uint_eq(d.n, 10);
  ck_assert_int_eq(d.blocks[0].kind, HB_PARA);
  ck_assert_int_eq(d.blocks[0].level, 1);
  ck_assert_str_eq(d.blocks[0].markup, "<span weight=\"bold\">Заголовок</span>");
  ck_assert_int_eq(d.blocks[1].align, HA_CENTER);
  ck_assert_str_eq(d.blocks[1].markup, "Один <span weight=\"bold\">два</span> три");
  ck_assert_int_eq(d.blocks[2].align, HA_RIGHT);
  ck_assert_str_eq(d.blocks[2].markup, "a &amp; b &lt;c&gt; «q» №A");
  ck_assert_int_eq(d.blocks[3].kind, HB_HR);
  ck_assert_str_eq(d.blocks[4].markup, "• x");
  ck_assert(d.blocks[4].item && d.blocks[4].indent == 18);
  ck_assert_str_eq(d.blocks[5].markup, "• y");
  ck_assert_str_eq(d.blocks[6].markup, "1. p");
  ck_assert_str_eq(d.blocks[7].markup, "2. q");
  ck_assert_int_eq(d.blocks[8].kind, HB_PAGEBREAK);
  ck_assert_str_eq(d.blocks[9].markup, "z\nw");
  html_doc_free(&d);
}
END_TEST

START_TEST(html_tables) {
  HtmlDoc d;
  const char *h = "<table class=\"plain\"><thead><tr><th>A</th><th class=\"num\" nowrap>B</th></tr></thead>"
                  "<tbody><tr><td colspan=\"2\" align=right><i>x</i><p>y</p></td></tr>"
                  "<tr><td>1<td style=\"text-align: center\">2<table><tr><td>in<td>ner</table></td></tr>"
                  "</tbody></table><p>after</p><table><tr><td>unclosed";
  parse_ok(h, strlen(h), &d);
  ck_assert_uint_eq(d.n, 3);
  const HtmlBlock *t = &d.blocks[0];
  ck_assert_int_eq(t->kind, HB_TABLE);
  ck_assert(t->plain);
  ck_assert_uint_eq(t->nrows, 3);
  ck_assert(t->rows[0].header && !t->rows[1].header);
  ck_assert_uint_eq(t->rows[0].n, 2);
  ck_assert(t->rows[0].cells[0].header && t->rows[0].cells[1].nowrap);
  ck_assert_int_eq(t->rows[0].cells[1].align, HA_RIGHT);
  ck_assert_str_eq(t->rows[0].cells[0].markup, "<span weight=\"bold\">A</span>");
  ck_assert_int_eq(t->rows[1].cells[0].colspan, 2);
  ck_assert_int_eq(t->rows[1].cells[0].align, HA_RIGHT);
  ck_assert_str_eq(t->rows[1].cells[0].markup, "<span style=\"italic\">x</span>\ny");
  ck_assert_uint_eq(t->rows[2].n, 2);
  ck_assert_int_eq(t->rows[2].cells[1].align, HA_CENTER);
  ck_assert_str_eq(t->rows[2].cells[1].markup, "2\nin ner");
  ck_assert_str_eq(d.blocks[1].markup, "after");
  ck_assert_int_eq(d.blocks[2].kind, HB_TABLE);
  ck_assert(!d.blocks[2].plain);
  ck_assert_str_eq(d.blocks[2].rows[0].cells[0].markup, "unclosed");
  html_doc_free(&d);
}
END_TEST

START_TEST(html_malformed) {
  HtmlDoc d;
  const char *h = "a < b <3 <b><i>bi</b>i</i> <zz x=\"1\">z</zz> &bogus; &#0; &#xD800; &amp <p \xff\xfe";
  parse_ok(h, strlen(h), &d);
  ck_assert_uint_eq(d.n, 1);
  ck_assert_str_eq(d.blocks[0].markup,
                   "a &lt; b &lt;3 <span weight=\"bold\" style=\"italic\">bi</span><span style=\"italic\">i</span>"
                   " z &amp;bogus; \xef\xbf\xbd \xef\xbf\xbd &amp;amp &lt;p \xef\xbf\xbd\xef\xbf\xbd");
  html_doc_free(&d);
  parse_ok("", 0, &d);
  ck_assert_uint_eq(d.n, 0);
  html_doc_free(&d);
  const char *s = "<script>if (a < b) alert(1)</script><!-- <p>comment</p> --><!DOCTYPE x><?pi?>ok<!-- open";
  parse_ok(s, strlen(s), &d);
  ck_assert_uint_eq(d.n, 1);
  ck_assert_str_eq(d.blocks[0].markup, "ok");
  html_doc_free(&d);
  /* closing tags that were never opened, deep nesting */
  StrBuf b = {0};
  sb_puts(&b, "</p></div></table></td></b></i>");
  for (int i = 0; i < 20000; i++) sb_puts(&b, "<div><b><table><tr><td>");
  sb_puts(&b, "deep");
  parse_ok(b.s, b.len, &d);
  ck_assert_uint_eq(d.n, 1);
  ck_assert_int_eq(d.blocks[0].kind, HB_TABLE);
  html_doc_free(&d);
  sb_free(&b);
}
END_TEST

START_TEST(html_random) {
  /* random soup of tags, entities, text and bytes: never a crash, always good markup */
  static const char *const bits[] = {"<p>", "</p>", "<b>", "</b>", "<i>", "</i>", "<table>", "</table>",
                                     "<tr>", "</tr>", "<td colspan=3>", "</td>", "<th>", "<br>", "<hr>",
                                     "<h1>", "</h2>", "<ul>", "<li>", "</ol>", "&amp;", "&#x4A;", "&",
                                     "<", ">", "\"", "'", "текст", " ", "\n", "<!--", "-->", "<style>",
                                     "</style", "<title>", "<div class='page-break'>", "\xd0", "\x01",
                                     "<thead>", "</tbody>", "<span>", "<small>", "<code>", "</u>"};
  unsigned seed = 12345;
  for (int n = 0; n < 3000; n++) {
    StrBuf b = {0};
    int len = (int)((seed = seed * 1103515245 + 12345) >> 16) % 60;
    for (int k = 0; k < len; k++) {
      seed = seed * 1103515245 + 12345;
      sb_puts(&b, bits[(seed >> 16) % (sizeof bits / sizeof *bits)]);
    }
    HtmlDoc d;
    parse_ok(b.s ? b.s : "", b.len, &d);
    html_doc_free(&d);
    sb_free(&b);
  }
}
END_TEST

static Suite *document_suite(void) {
  Suite *s = suite_create("document");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_test(tc, values);
  tcase_add_test(tc, conditions);
  tcase_add_test(tc, loops);
  tcase_add_test(tc, money);
  tcase_add_loop_test(tc, words, 0, sizeof words_cases / sizeof *words_cases);
  tcase_add_test(tc, dates);
  tcase_add_test(tc, names);
  suite_add_tcase(s, tc);
  tc = tcase_create("errors");
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_test(tc, value_errors);
  tcase_add_loop_test(tc, syntax, 0, sizeof syntax_cases / sizeof *syntax_cases);
  tcase_add_test(tc, nesting_limit);
  suite_add_tcase(s, tc);
  tc = tcase_create("files");
  tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
  tcase_add_test(tc, partials);
  tcase_add_test(tc, render_files);
  tcase_set_timeout(tc, 60);
  suite_add_tcase(s, tc);
  tc = tcase_create("html");
  tcase_add_test(tc, html_blocks);
  tcase_add_test(tc, html_tables);
  tcase_add_test(tc, html_malformed);
  tcase_add_test(tc, html_random);
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(document_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
