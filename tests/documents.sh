#!/bin/sh
# tests/documents.sh: documents from templates to HTML and PDF (docs/documents.md)
# through `funnel document`. The shipped invoice with Cyrillic params: the
# HTML (params escaped) and the PDF read back with pdftotext (the text, the
# amount in figures and in words, the table's cells); a long table over
# several pages (pdfinfo's page count, the header repeated, page numbers);
# every template the packs name renders with the params the pack passes;
# errors (a missing template, an unclosed {{#if}}, a missing param, bad
# money, an unwritable output: exit 1, a clear message, no file left);
# malformed HTML still renders; a table row taller than a page is split.
FUNNEL=${FUNNEL:-funnel}
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
T=$srcdir/pipelines/templates
D=$srcdir/tests/documents
tmp=${TMPDIR:-/tmp}/documents.$$
trap 'rm -rf "$tmp"' EXIT
trap 'rm -rf "$tmp"; exit 1' INT TERM
mkdir -p "$tmp" || exit 1
passed=0; failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $1"; [ -f "$tmp/out" ] && sed 's/^/    /' "$tmp/out" | head -n 20; }

if ! command -v pdftotext >/dev/null 2>&1 || ! command -v pdfinfo >/dev/null 2>&1; then
  echo "documents.sh: pdftotext and pdfinfo are needed (apt-get install poppler-utils)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

# expect NAME STATUS TEXT CMD...: CMD exits with STATUS and its output
# (stdout and stderr) contains TEXT
expect() {
  name=$1 status=$2 text=$3
  shift 3
  "$@" >"$tmp/out" 2>&1
  rc=$?
  if [ $rc -ne "$status" ]; then bad "$name: exit $rc, not $status"
  elif [ -n "$text" ] && ! grep -qF -- "$text" "$tmp/out"; then bad "$name: no '$text' in the output"
  else ok; fi
}

# has NAME FILE TEXT...: FILE contains every TEXT (fixed strings)
has() {
  name=$1 file=$2
  shift 2
  for t in "$@"; do
    if ! grep -qF -- "$t" "$file"; then
      cp "$file" "$tmp/out" 2>/dev/null
      bad "$name: no '$t'"
      return
    fi
  done
  ok
}

# lacks NAME FILE TEXT: FILE does not contain TEXT
lacks() {
  if grep -qF -- "$3" "$2"; then cp "$2" "$tmp/out"; bad "$1: '$3' is there"; else ok; fi
}

doc() { "$FUNNEL" document --template-dir "$@"; }

# ---- the shipped invoice, Cyrillic params, an attempt at markup ------------------------------
ctx='"key":"12.1/1/4/0","ref":"deal-7","date":"2026-03-05T11:00:00+03:00"'
params='{"amount":"150000.00 RUB","note":"Предоплата 50%","client":"ООО «Ромашка» <script>alert(1)</script>","car":"Kia Rio <b>А123ВС</b>",'$ctx'}'
expect "the invoice renders" 0 "" doc "$T" body-repair-invoice --params "$params" \
  --html "$tmp/inv.html" --pdf "$tmp/inv.pdf"
has "the invoice's HTML" "$tmp/inv.html" "<h1>Счёт на оплату № deal-7 от 5 марта 2026 г.</h1>" \
  "Предоплата 50%" "Сто пятьдесят тысяч рублей 00 копеек" "ООО «Кузовной цех»" \
  "$(printf '150\302\240000,00\302\240руб.')" "<title>Счёт на оплату № deal-7 от 05.03.2026</title>"
has "params are HTML-escaped" "$tmp/inv.html" "ООО «Ромашка» &lt;script&gt;alert(1)&lt;/script&gt;" \
  "Kia Rio &lt;b&gt;А123ВС&lt;/b&gt;"
lacks "no script tag gets through" "$tmp/inv.html" "<script>"
pdftotext -layout "$tmp/inv.pdf" "$tmp/inv.txt" 2>"$tmp/out"
has "the invoice's PDF text" "$tmp/inv.txt" "Счёт на оплату № deal-7 от 5 марта 2026 г." \
  "Предоплата 50%" "Сто пятьдесят тысяч рублей 00 копеек" "Итого: 150 000,00 руб." \
  "Всего к оплате: 150 000,00 руб." "Поставщик" "Покупатель"
has "the PDF shows escaped params as text" "$tmp/inv.txt" "ООО «Ромашка» <script>alert(1)</script>" \
  "Kia Rio <b>А123ВС</b>"
# the table's cells, in their row, in order
has "the invoice's table" "$tmp/inv.txt" "ПАО Сбербанк, г. Москва" "044525225" "40702810938000012345"
if grep -E '^ *№ +Товары \(работы, услуги\) +Кол-во +Ед\. +Цена +Сумма *$' "$tmp/inv.txt" >/dev/null &&
   grep -E '^ *1 +Кузовной ремонт автомобиля( \(Предоплата 50%\))? +1 +усл\. +150 000,00 руб\. +150 000,00 руб\. *$' \
     "$tmp/inv.txt" >/dev/null; then ok; else cp "$tmp/inv.txt" "$tmp/out"; bad "the table's rows, cell by cell"; fi
pdfinfo "$tmp/inv.pdf" >"$tmp/info" 2>&1
has "the invoice is one A4 page with a title" "$tmp/info" "Pages:           1" "Title:           Счёт на оплату № deal-7" \
  "Page size:       595.276 x 841.89 pts (A4)"
lacks "one page, no page number" "$tmp/inv.txt" "Страница"

# ---- the act ---------------------------------------------------------------------------------
expect "the act renders" 0 "" doc "$T" body-repair-act \
  --params '{"amount":"1001.01 RUB","client":"Иванов Иван Иванович",'"$ctx"'}' --pdf "$tmp/act.pdf"
pdftotext -layout "$tmp/act.pdf" "$tmp/act.txt"
has "the act's PDF text" "$tmp/act.txt" "Акт выполненных работ № deal-7 от 5 марта 2026 г." \
  "Одна тысяча один рубль 01 копейка" "1 001,01 руб." "ИСПОЛНИТЕЛЬ" "Иванов Иван Иванович"

# ---- a long table: more pages, the header on each, page numbers -------------------------------
items=""
i=1
while [ $i -le 150 ]; do
  items="$items{\"name\":\"Позиция $i: деталь кузова\",\"qty\":$i,\"unit\":\"шт.\",\"price\":\"100.00 RUB\",\"sum\":\"$i.00 RUB\"},"
  i=$((i + 1))
done
printf '{"amount":"11325.00 RUB","items":[%s],%s}\n' "${items%,}" "$ctx" >"$tmp/long.json"
expect "a long invoice renders" 0 "" doc "$T" body-repair-invoice --params "@$tmp/long.json" --pdf "$tmp/long.pdf"
pages=$(pdfinfo "$tmp/long.pdf" 2>/dev/null | sed -n 's/^Pages: *//p')
if [ "${pages:-0}" -ge 3 ] && [ "${pages:-0}" -le 6 ]; then ok; else bad "150 rows take 3 to 6 pages, not '$pages'"; fi
pdftotext -layout -f 2 -l 2 "$tmp/long.pdf" "$tmp/p2.txt"
has "page 2 repeats the header and goes on" "$tmp/p2.txt" "Товары (работы, услуги)" "Страница 2 из $pages"
pdftotext -layout -f "${pages:-1}" -l "${pages:-1}" "$tmp/long.pdf" "$tmp/plast.txt"
has "the last page ends the table and the invoice" "$tmp/plast.txt" "Позиция 150: деталь кузова" \
  "Всего к оплате: 11 325,00 руб." "Страница $pages из $pages"
pdftotext -layout "$tmp/long.pdf" "$tmp/long.txt"
n=$(grep -c "деталь кузова" "$tmp/long.txt")
if [ "$n" -eq 150 ]; then ok; else bad "every row once: $n rows of 150"; fi

# ---- every document the packs emit has a template that renders with the params they pass ------
# Packs emit documents directly (`document KIND "NAME" { a = ..., b = ... }`) or through
# std.documents (`invoice(d, "NAME", amount, note)`, also act and contract), whose params are
# number, title, client, amount, note and date (stdlib/documents.pipe).
grep -ho 'document [a-z_]* "[^"]*" {[^}]*}' "$srcdir"/pipelines/*.pipe | sort -u >"$tmp/docs"
grep -hoE '(invoice|act|contract)\([^,()]*, *"[^"]*"' "$srcdir"/pipelines/*.pipe |
  sed 's/.*"\([^"]*\)"$/std "\1"/' | sort -u >>"$tmp/docs"
ndocs=0
while read -r line; do
  dname=$(echo "$line" | sed 's/^[^"]*"\([^"]*\)".*/\1/')
  case $line in
    std*) p='"number":5,"title":"Ремонт «Kia Rio»","client":"Иванов И. И.","amount":"2500.00 RUB","note":"","date":"2026-03-05",'
          num="№ 5" ;;
    *) p=$(echo "$line" | sed 's/^[^{]*{//; s/}$//' | sed 's/"[^"]*"//g' | grep -o '[a-z_][a-z_0-9]* *=' |
           sed 's/ *=//' | while read -r k; do
             case $k in
               amount|fee|sum|price) printf '"%s":"2500.00 RUB",' "$k" ;;
               bottles) printf '"%s":4,' "$k" ;;
               *) printf '"%s":"Тест «%s»",' "$k" "$k" ;;
             esac
           done)
       p="$p\"date\":\"2026-03-05T11:00:00+03:00\","
       # numbered by the pack's `number` when it passes one, else by the ref
       case $p in *'"number":'*) num="№ Тест «number»" ;; *) num="№ deal-7" ;; esac ;;
  esac
  ndocs=$((ndocs + 1))
  expect "pack document $dname" 0 "" doc "$T" "$dname" --params "{$p\"key\":\"12.1/1/4/0\",\"ref\":\"deal-7\"}" \
    --html "$tmp/$dname.html" --pdf "$tmp/$dname.pdf"
  pdftotext "$tmp/$dname.pdf" "$tmp/$dname.txt" 2>/dev/null
  has "pack document $dname: its number in the PDF" "$tmp/$dname.txt" "$num"
done <"$tmp/docs"
n=$(sed 's/^[^"]*"\([^"]*\)".*/\1/' "$tmp/docs" | sort -u | wc -l)
if [ "$n" -ge 11 ]; then ok; else cp "$tmp/docs" "$tmp/out"; bad "the packs name 11 documents or more, found $n"; fi

# ---- errors: exit 1, a clear message, nothing written -----------------------------------------
expect "a missing template" 1 "no template 'no-such-doc': cannot read $T/no-such-doc.html: No such file or directory" \
  doc "$T" no-such-doc --params "{$ctx}" --html "$tmp/e.html"
expect "a template name outside the directory" 1 "'../templates/body-repair-act' is not a template name" \
  doc "$T" ../templates/body-repair-act --html "$tmp/e.html"
expect "an unclosed {{#if" 1 "$D/unclosed-if.html:3: {{#if note}} is not closed (no {{/if}})" \
  doc "$D" unclosed-if --params '{"note":"x"}' --html "$tmp/e.html" --pdf "$tmp/e.pdf"
expect "a mismatched close" 1 "$D/mismatched.html:2: {{/each}} closes {{#if note}} opened at line 1" \
  doc "$D" mismatched --params '{"note":"x"}' --html "$tmp/e.html"
expect "an error in a partial names the partial" 1 "$D/_broken.html:2: unknown filter 'rubles' in {{amount|rubles}}" \
  doc "$D" uses-broken --params '{"amount":"1.00 RUB"}' --html "$tmp/e.html"
expect "a partial that includes itself" 1 "partials nested deeper than 8" \
  doc "$D" recursive --html "$tmp/e.html"
expect "a missing param" 1 "body-repair-invoice.html:8: no param 'date' for {{date|date}} (the params are: amount, key, ref)" \
  doc "$T" body-repair-invoice --params '{"amount":"1.00 RUB","key":"k","ref":"r"}' --html "$tmp/e.html"
expect "bad money" 1 "{{amount|money}}: \"150000\" is not money" \
  doc "$T" body-repair-invoice --params '{"amount":"150000",'"$ctx"'}' --html "$tmp/e.html"
expect "bad params" 1 "funnel: document: --params:" doc "$T" body-repair-invoice --params '{"amount":' --html "$tmp/e.html"
expect "params not an object" 1 "--params must be a JSON object" doc "$T" body-repair-invoice --params '[1]' --html "$tmp/e.html"
expect "an unwritable PDF" 1 "cannot write $tmp/no-dir/x.pdf: No such file or directory" \
  doc "$T" body-repair-invoice --params "$params" --pdf "$tmp/no-dir/x.pdf"
mkdir -p "$tmp/adir"
expect "an HTML path that is a directory" 1 "cannot write $tmp/adir: Is a directory" \
  doc "$T" body-repair-invoice --params "$params" --pdf "$tmp/both.pdf" --html "$tmp/adir"
if [ -e "$tmp/e.html" ] || [ -e "$tmp/e.pdf" ] || [ -e "$tmp/both.pdf" ] ||
   ls "$tmp" "$tmp/adir" | grep -q 'tmp[A-Za-z0-9]\{6\}$'; then
  bad "a failed document leaves no file, not even a temporary one"
else ok; fi
expect "usage: nothing to write" 2 "say what to write" doc "$T" body-repair-invoice
expect "usage: an unknown option" 2 "unknown option '--pfd'" doc "$T" body-repair-invoice --pfd x.pdf

# ---- a document rendered again replaces the old one ------------------------------------------
echo old >"$tmp/again.html"
expect "rendering over an old file" 0 "" doc "$T" body-repair-act --params '{"amount":"5.00 RUB",'"$ctx"'}' --html "$tmp/again.html"
has "the old file is replaced" "$tmp/again.html" "Пять рублей 00 копеек"

# ---- malformed HTML still renders --------------------------------------------------------------
expect "malformed HTML renders" 0 "" doc "$D" malformed --params '{"who":"Мир & <друзья>"}' --pdf "$tmp/bad.pdf" --html "$tmp/bad.html"
pdftotext "$tmp/bad.pdf" "$tmp/bad.txt"
has "malformed HTML: its text is there" "$tmp/bad.txt" "Привет, Мир & <друзья>" "a < b && c > d" \
  "текст неизвестного тега" "ячейка без закрытия" "вторая ячейка" "после незакрытой таблицы" \
  "жирный курсив" "подчёркнутый" "глубоко" "конец документа" "x < стрелка и 5<7 &bogus;" \
  "битые байты" "строка вне таблицы"
lacks "malformed HTML: style is not text" "$tmp/bad.txt" "font-size"
lacks "malformed HTML: script is not text" "$tmp/bad.txt" "alert"
expect "a page break" 0 "" doc "$D" page-break --pdf "$tmp/pb.pdf"
pages=$(pdfinfo "$tmp/pb.pdf" 2>/dev/null | sed -n 's/^Pages: *//p')
if [ "$pages" = 2 ]; then ok; else bad "a page break makes 2 pages, not '$pages'"; fi
# a long paragraph flows onto more pages, every word kept
seq 3000 | tr '\n' ',' | sed 's/^/{"words":[/; s/,$/]}/' >"$tmp/words.json"
expect "a long paragraph" 0 "" doc "$D" long-text --params "@$tmp/words.json" --pdf "$tmp/lt.pdf"
pages=$(pdfinfo "$tmp/lt.pdf" 2>/dev/null | sed -n 's/^Pages: *//p')
pdftotext "$tmp/lt.pdf" - | tr -s ' \n\f' '\n\n\n' | grep -c '^слово[0-9]*$' >"$tmp/n"
if [ "${pages:-0}" -ge 2 ] && [ "$(cat "$tmp/n")" -eq 3000 ]; then ok
else bad "a long paragraph: $pages pages, $(cat "$tmp/n") of 3000 words"; fi

# a table row taller than a page is split between its lines, the header repeated
seq 300 | tr '\n' ',' | sed 's/^/{"lines":[/; s/,$/]}/' >"$tmp/lines.json"
expect "a row taller than a page" 0 "" doc "$D" tall-row --params "@$tmp/lines.json" --pdf "$tmp/tall.pdf"
pages=$(pdfinfo "$tmp/tall.pdf" 2>/dev/null | sed -n 's/^Pages: *//p')
pdftotext "$tmp/tall.pdf" - | tr -s ' \n\f' '\n\n\n' | grep '^строка[0-9]*$' | sort -u | wc -l >"$tmp/n"
if [ "${pages:-0}" -ge 3 ] && [ "$(cat "$tmp/n")" -eq 300 ]; then ok
else bad "a tall row: $pages pages, $(cat "$tmp/n") of 300 lines"; fi
pdftotext -layout -f 2 -l 2 "$tmp/tall.pdf" "$tmp/t2.txt"
has "a tall row goes on under the header" "$tmp/t2.txt" "Текст" "Страница 2 из $pages"
pdftotext -layout -f "${pages:-1}" -l "${pages:-1}" "$tmp/tall.pdf" "$tmp/tl.txt"
has "after a tall row, the table and the text go on" "$tmp/tl.txt" "строка300" "последняя" "после таблицы"

rm -f "$tmp/out"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
