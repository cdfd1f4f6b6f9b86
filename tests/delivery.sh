#!/bin/sh
# delivery.sh: the outbox worker (`funnel deliver`, `funnel outbox`,
# `funnel inbox`) against receivers this script starts on loopback
# (tests/receivers: http_recv and smtp_recv, built by make check; each
# listens on a port the kernel picks and writes it to a file).
#
# Effects come from tests/delivery/pack.pipe through `funnel run` (a
# virtual clock at 2026-01-12T10:00+03:00 = 07:00Z); `deliver --once
# --now T` delivers what is due at T, so back-off times are exact.
#
# Cases: every channel (tasks, notifications for a user and for a role,
# a question, e-mail with a Cyrillic subject, sender and body, SMS,
# WhatsApp, Telegram, a web hook, a document) with what each receiver
# got; nothing sent twice by a second pass; retries with back-off then
# success (HTTP 500 and 429, SMTP 451); dead after max_attempts and
# `--retry`; 4xx and SMTP 5xx dead at once; channels not configured and
# a missing address dead; a crash between sending and marking (the
# FUNNEL_DELIVER_CRASH_AFTER fault hook kills the worker with SIGKILL
# after a send) and a SIGKILL of `deliver --follow` in the middle of a
# stream: after a restart every effect is delivered, and the receiver
# saw every key, no key that is not in the outbox, and at most the one
# in-flight key twice (same key: a receiver that dedupes sees each
# effect once); SIGTERM stops --follow cleanly; --follow delivers what
# is committed while it runs; a server slower than the timeout is
# retried; real packs: body-repair's invoice process (two invoices
# rendered to PDF and read back, e-mail, SMS, WhatsApp, the question),
# water-delivery (contract, invoices, waybill; SMS without `to` reach the
# contact), machinery-parts (order statuses posted to the exchange web
# hook): every effect kind the packs make, none dead; the inbox per user, a
# task done, a question closed by its answer; config errors with
# FILE:LINE; the example session of docs/delivery.md.
# Prints one line per failed check and "N passed, N failed"; exits 1 on failure.
#
#   FUNNEL=build/funnel RECEIVERS=build/tests/receivers tests/delivery.sh
#   KEEP=1 ...   keeps the work directory

FUNNEL=${FUNNEL:-funnel}
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
RECEIVERS=${RECEIVERS:-$(dirname "$FUNNEL")/tests/receivers}
pack=$srcdir/tests/delivery/pack.pipe
templates=$srcdir/tests/delivery/templates
tmp=${TMPDIR:-/tmp}/delivery.$$
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null; done
  [ -n "$KEEP" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir -p "$tmp" || exit 1
passed=0; failed=0
T0=2026-01-12T08:00:00Z

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $1"; [ -n "$2" ] && [ -f "$2" ] && sed 's/^/    /' "$2" | head -30; }
# check NAME CMD...: CMD succeeds
check() { name=$1; shift; if "$@"; then ok; else bad "$name" "$tmp/out"; fi; }
# has FILE TEXT: FILE contains TEXT (fixed string)
has() { grep -qF -- "$2" "$1"; }
hasnt() { ! grep -qF -- "$2" "$1"; }
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }

for r in http_recv smtp_recv; do
  if [ ! -x "$RECEIVERS/$r" ]; then echo "FAIL: no $RECEIVERS/$r (make check builds it)"; echo "0 passed, 1 failed"; exit 1; fi
done

# start KIND NAME [OPTIONS]: a receiver in $tmp/NAME; sets $port
start() {
  kind=$1 name=$2
  shift 2
  mkdir -p "$tmp/$name"
  rm -f "$tmp/$name.port"
  "$RECEIVERS/${kind}_recv" --port-file "$tmp/$name.port" --dir "$tmp/$name" "$@" &
  pids="$pids $!"
  i=0
  while [ ! -s "$tmp/$name.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  port=$(cat "$tmp/$name.port" 2>/dev/null)
  [ -n "$port" ] || { echo "FAIL: receiver $name did not start"; failed=$((failed + 1)); }
}

# mkdb DB HOOKURL STAGE...: a deal d1 moved through the stages (each makes its effects)
mkdb() {
  db=$1 hook=$2
  shift 2
  {
    echo '{"op":"clock","at":"2026-01-12T10:00:00+03:00"}'
    echo '{"op":"user","id":"ivan","name":"Иван","roles":["manager"],"email":"ivan@example.ru"}'
    echo '{"op":"user","id":"anna","name":"Анна","roles":["manager"]}'
    echo '{"op":"create","entity":"contact","ref":"c1","fields":{"name":"ООО Ромашка","email":"client@example.ru","phone":"+79001234567"}}'
    echo '{"op":"create","entity":"deal","ref":"d1","direction":"sales","owner":"ivan","fields":{"title":"Кулер","contact":"@c1","hook":"'"$hook"'","sum":"1500.00 RUB"}}'
    for s in "$@"; do echo '{"op":"move","ref":"d1","stage":"'"$s"'"}'; done
  } | "$FUNNEL" run --db "$db" "$pack" >"$tmp/run.out" 2>&1
  if grep -q '"ok":false' "$tmp/run.out"; then bad "funnel run for $db" "$tmp/run.out"; fi
}

# conf FILE SMTPPORT HTTPPORT [EXTRA]: a configuration
conf() {
  cat >"$1" <<EOF
# the test configuration of tests/delivery.sh
[worker]
batch = 50
lease = 10s

[retry]
base = 2s
factor = 3
cap = 1h
max_attempts = 3

[smtp]
server = 127.0.0.1
port = $2
from = "Отдел продаж <sales@example.ru>"
domain = test.funnel
timeout = 5s

[sms]
url = http://127.0.0.1:$3/sms
body = {"phone": {{address}}, "message": {{text}}, "id": {{key}}}
header = Authorization: Bearer sms-token

[whatsapp]
url = http://127.0.0.1:$3/wa/{{address}}
body = {"text": {{text}}}

[telegram]
url = http://127.0.0.1:$3/bot123:secret/sendMessage
body = {"chat_id": {{address}}, "text": {{text}}}

[webhook]
header = X-Source: funnel-test
timeout = 5s

[documents]
templates = $templates
output = $tmp/docs
EOF
}

# deliver DB CONF NOW: funnel deliver --once at NOW, output in $tmp/out
deliver() { "$FUNNEL" deliver --db "$1" --config "$2" --once --now "$3" >"$tmp/out" 2>&1; }
# key DB SUFFIX: the full key of the effect whose key ends in /SUFFIX
# (record/robot/position/kind; the command number in front depends on
# how the engine counts commands, so the test reads it from the outbox)
key() { "$FUNNEL" outbox --db "$1" --json | sed -n 's|.*"key":"\([0-9.]*/'"$2"'\)".*|\1|p' | head -1; }
# row DB KEY: the outbox line of KEY
row() { "$FUNNEL" outbox --db "$1" --json | grep -F "\"key\":\"$2\""; }
# decode the RFC 2047 words of a header (folded lines joined)
header_text() {
  awk -v h="$2:" 'BEGIN{IGNORECASE=0} $0 ~ "^"h {on=1; sub("^"h" ?", ""); printf "%s", $0; next}
    on && /^[ \t]/ {printf "%s", $0; next} {on=0} END {print ""}' "$1" | tr -d '\r' |
    sed 's/?=[ \t]*=?UTF-8?B?/\n/g; s/^.*=?UTF-8?B?//; s/?=.*$//' | while read -r w; do printf '%s' "$w" | base64 -d; done
}

# ---- 1. every channel -----------------------------------------------------------------------
start smtp smtpA; SA=$port
start http httpA; HA=$port
conf "$tmp/a.conf" "$SA" "$HA"
mkdb "$tmp/a.db" "http://127.0.0.1:$HA/hook/deal?x=1" fresh mail phone hook doc nomail question

kmail=$(key "$tmp/a.db" 2/1/1/message); ksms=$(key "$tmp/a.db" 2/2/1/message)
kwa=$(key "$tmp/a.db" 2/2/2/message); ktg=$(key "$tmp/a.db" 2/2/3/message)
khook=$(key "$tmp/a.db" 2/3/1/webhook); kdoc=$(key "$tmp/a.db" 2/4/1/document)
knomail=$(key "$tmp/a.db" 2/5/1/message); ktask=$(key "$tmp/a.db" 2/0/1/task)
docbase=$(echo "$kdoc" | tr / _)
deliver "$tmp/a.db" "$tmp/a.conf" "$T0"
check "every channel: the summary" has "$tmp/out" "funnel deliver: 10 delivered, 0 to retry, 1 dead, 0 pending"
check "e-mail: one message, accepted" test "$(cat "$tmp/smtpA/messages.log")" = \
  "1 250 <sales@example.ru> <client@example.ru> $kmail"
eml=$tmp/smtpA/1.eml
check "e-mail: Message-ID is the key" has "$eml" "Message-ID: <$kmail@test.funnel>"
check "e-mail: X-Funnel-Key" has "$eml" "X-Funnel-Key: $kmail"
check "e-mail: UTF-8 text in base64" has "$eml" "Content-Type: text/plain; charset=UTF-8"
check "e-mail: the subject is RFC 2047" has "$eml" "Subject: =?UTF-8?B?"
header_text "$eml" Subject >"$tmp/subject"
check "e-mail: the long Cyrillic subject decodes (folded words)" test "$(cat "$tmp/subject")" = "Счёт по сделке «Кулер» за поставку оборудования и монтаж"
check "e-mail: the subject is folded, no line over 76 characters" sh -c "[ \$(grep -c '^ =?UTF-8?B?' '$eml') -ge 2 ] && ! tr -d '\\r' <'$eml' | grep -q '^.\\{77,\\}'"
header_text "$eml" From >"$tmp/from"
check "e-mail: the sender's name decodes" test "$(cat "$tmp/from")" = "Отдел продаж"
check "e-mail: the sender's address" has "$eml" "<sales@example.ru>"
tr -d '\r' <"$eml" | sed '1,/^$/d' | base64 -d >"$tmp/body.raw"
tr -d '\r' <"$tmp/body.raw" >"$tmp/body"
printf '%s\n' "Счёт по сделке «Кулер» за поставку оборудования и монтаж" "Здравствуйте! Счёт на оплату во вложении." \
  "Строка из одной точки ниже:" "." "С уважением, отдел продаж" | head -c -1 >"$tmp/body.want"
check "e-mail: the Cyrillic body decodes (a lone '.' line kept)" cmp -s "$tmp/body" "$tmp/body.want"
check "e-mail: body lines end in CRLF" test "$(tr -cd '\r' <"$tmp/body.raw" | wc -c | tr -d ' ')" = 4

log=$tmp/httpA/requests.log
check "HTTP: four requests (SMS, WhatsApp, Telegram, web hook)" test "$(lines "$log")" = 4
check "SMS: path and key" has "$log" "200 POST /sms $ksms"
check "SMS: the body template" test "$(cat "$tmp/httpA/1.body")" = \
  '{"phone": "+79001234567", "message": "СМС: ваш заказ «Кулер» готов", "id": "'"$ksms"'"}'
check "SMS: the configured header" has "$tmp/httpA/1.req" "Authorization: Bearer sms-token"
check "SMS: Idempotency-Key header" has "$tmp/httpA/1.req" "Idempotency-Key: $ksms"
check "WhatsApp: the address URL-encoded in the path" has "$log" "200 POST /wa/%2B79001234567 $kwa"
check "WhatsApp: the body" test "$(cat "$tmp/httpA/2.body")" = '{"text": "WhatsApp: заказ «Кулер» в пути"}'
check "Telegram: the body" test "$(cat "$tmp/httpA/3.body")" = \
  '{"chat_id": "+79001234567", "text": "Telegram: заказ «Кулер» доставлен"}'
check "web hook: POST to the effect's URL with the key" has "$log" "200 POST /hook/deal?x=1 $khook"
check "web hook: the JSON body" test "$(cat "$tmp/httpA/4.body")" = \
  '{"deal":"Кулер","amount":"1500.00 RUB","note":"Сделка «Кулер»"}'
check "web hook: JSON content type" has "$tmp/httpA/4.req" "Content-Type: application/json"
check "web hook: the [webhook] header" has "$tmp/httpA/4.req" "X-Source: funnel-test"
row "$tmp/a.db" "$knomail" >"$tmp/out"
check "no e-mail address: dead at once" has "$tmp/out" '"status":"dead","attempts":1'
check "no e-mail address: the reason" has "$tmp/out" "'not an address' is not an e-mail address"
row "$tmp/a.db" "$khook" >"$tmp/out"
check "outbox --json: delivered, when, no error" has "$tmp/out" \
  '"status":"delivered","attempts":1,"created":"2026-01-12T07:00:00Z","next_try":null,"delivered":"2026-01-12T08:00:00Z","last_error":null'
check "documents: the PDF" sh -c "head -c 5 '$tmp/docs/$docbase.pdf' | grep -q '%PDF-'"
check "documents: the HTML" has "$tmp/docs/$docbase.html" "Счёт № Кулер"
if command -v pdftotext >/dev/null 2>&1; then
  pdftotext "$tmp/docs/$docbase.pdf" "$tmp/doc.txt" 2>/dev/null
  check "documents: the PDF's Cyrillic text reads back" has "$tmp/doc.txt" "Назначение: Оплата ремонта"
fi

# the inbox
"$FUNNEL" inbox --db "$tmp/a.db" --user ivan >"$tmp/out" 2>&1
check "inbox: Ivan's task with its due time" has "$tmp/out" "[ ] Позвонить клиенту: Кулер (due 2026-01-12T09:00:00Z)  -- d1"
check "inbox: Ivan's notification" has "$tmp/out" "notify Новая сделка: Кулер  -- d1"
check "inbox: the role's notification reaches Ivan" has "$tmp/out" "notify В воронке новая сделка: Кулер"
check "inbox: Ivan's open question" has "$tmp/out" "ask    [?] Разбить оплату на две части?"
check "inbox: four items for Ivan" has "$tmp/out" "4 items"
"$FUNNEL" inbox --db "$tmp/a.db" --user anna >"$tmp/out" 2>&1
check "inbox: the role's notification reaches Anna, and only it" sh -c \
  "grep -qF 'anna       notify В воронке новая сделка: Кулер' '$tmp/out' && grep -qF '1 items' '$tmp/out'"
"$FUNNEL" inbox --db "$tmp/a.db" --user nobody >"$tmp/out" 2>&1
check "inbox: nothing for a user with no items" has "$tmp/out" "0 items"
"$FUNNEL" inbox --db "$tmp/a.db" --user ivan --json >"$tmp/out" 2>&1
check "inbox --json: the task" has "$tmp/out" '"user":"ivan","kind":"task","ref":"d1","text":"Позвонить клиенту: Кулер","due":"2026-01-12T09:00:00Z","done":null'
check "inbox --json: the question" has "$tmp/out" '"question":"split","open":true'
task=$(grep '"kind":"task"' "$tmp/out" | sed 's/^{"id":\([0-9]*\),.*/\1/')
"$FUNNEL" inbox --db "$tmp/a.db" --done "$task" --now "$T0" >"$tmp/out" 2>&1
"$FUNNEL" inbox --db "$tmp/a.db" --user ivan >>"$tmp/out" 2>&1
check "inbox --done: the task is done" has "$tmp/out" "[x] Позвонить клиенту: Кулер"
# answering the question (funnel run) closes it and runs the rest of the robot
printf '%s\n' '{"op":"answer","ref":"d1","question":"split","value":true}' |
  "$FUNNEL" run --db "$tmp/a.db" "$pack" >"$tmp/out" 2>&1
check "answer: accepted" has "$tmp/out" '"ok":true'
deliver "$tmp/a.db" "$tmp/a.conf" 2026-01-12T08:05:00Z
check "answer: the robot's next notification is delivered" has "$tmp/out" "funnel deliver: 1 delivered, 0 to retry, 0 dead, 0 pending"
"$FUNNEL" inbox --db "$tmp/a.db" --user ivan --json >"$tmp/out" 2>&1
check "answer: the question is closed" has "$tmp/out" '"question":"split","open":false'
check "answer: Ivan has the notification" has "$tmp/out" '"text":"Два счёта: Кулер"'

# nothing twice
deliver "$tmp/a.db" "$tmp/a.conf" 2026-01-12T09:00:00Z
check "a second pass delivers nothing" has "$tmp/out" "funnel deliver: 0 delivered, 0 to retry, 0 dead, 0 pending"
check "a second pass: no new HTTP request" test "$(lines "$log")" = 4
check "a second pass: no new e-mail" test "$(lines "$tmp/smtpA/messages.log")" = 1
"$FUNNEL" inbox --db "$tmp/a.db" >"$tmp/out" 2>&1
check "the inbox has each item once" has "$tmp/out" "6 items"
"$FUNNEL" outbox --db "$tmp/a.db" >"$tmp/out" 2>&1
check "outbox: the listing's totals" has "$tmp/out" "12 effects: 0 pending, 11 delivered, 1 dead"
"$FUNNEL" outbox --db "$tmp/a.db" --status dead >"$tmp/out" 2>&1
check "outbox --status dead" sh -c "grep -q '$knomail' '$tmp/out' && ! grep -q 'webhook' '$tmp/out'"

# ---- 2. retries with back-off, then success ----------------------------------------------------
start http httpB --fail 2 --code 500; HB=$port
conf "$tmp/b.conf" 1 "$HB"
mkdb "$tmp/b.db" "http://127.0.0.1:$HB/hook" hook
kb=$(key "$tmp/b.db" 2/3/1/webhook)
deliver "$tmp/b.db" "$tmp/b.conf" "$T0"
check "500: retry" has "$tmp/out" "funnel deliver: 3 delivered, 1 to retry, 0 dead, 1 pending"
row "$tmp/b.db" "$kb" >"$tmp/out"
check "500: attempt 1, due after base (2s)" has "$tmp/out" '"status":"pending","attempts":1,"created":"2026-01-12T07:00:00Z","next_try":"2026-01-12T08:00:02Z"'
check "500: the last error" has "$tmp/out" '"last_error":"POST http://127.0.0.1:'"$HB"': HTTP 500: Test Failure"'
deliver "$tmp/b.db" "$tmp/b.conf" 2026-01-12T08:00:01Z
check "not due yet: nothing tried" has "$tmp/out" "funnel deliver: 0 delivered, 0 to retry, 0 dead, 1 pending"
check "not due yet: no request" test "$(lines "$tmp/httpB/requests.log")" = 1
deliver "$tmp/b.db" "$tmp/b.conf" 2026-01-12T08:00:02Z
row "$tmp/b.db" "$kb" >"$tmp/out"
check "500 again: attempt 2, due after base*factor (6s)" has "$tmp/out" '"attempts":2,"created":"2026-01-12T07:00:00Z","next_try":"2026-01-12T08:00:08Z"'
deliver "$tmp/b.db" "$tmp/b.conf" 2026-01-12T08:00:08Z
check "then 200: delivered" has "$tmp/out" "funnel deliver: 1 delivered, 0 to retry, 0 dead, 0 pending"
row "$tmp/b.db" "$kb" >"$tmp/out"
check "delivered at the third attempt" has "$tmp/out" '"status":"delivered","attempts":3'
check "three requests, one key" test "$(cut -d' ' -f2,5 "$tmp/httpB/requests.log" | tr '\n' ' ')" = \
  "500 $kb 500 $kb 200 $kb "

start http httpB2 --fail 1 --code 429; HB2=$port
conf "$tmp/b2.conf" 1 "$HB2"
mkdb "$tmp/b2.db" "http://127.0.0.1:$HB2/hook" hook
deliver "$tmp/b2.db" "$tmp/b2.conf" "$T0"
check "429: retry, not dead" has "$tmp/out" "funnel deliver: 3 delivered, 1 to retry, 0 dead, 1 pending"
deliver "$tmp/b2.db" "$tmp/b2.conf" 2026-01-12T08:00:02Z
check "429: then delivered" has "$tmp/out" "funnel deliver: 1 delivered, 0 to retry, 0 dead, 0 pending"

start smtp smtpB --fail 1; SB=$port
conf "$tmp/s.conf" "$SB" 1
mkdb "$tmp/s.db" "" mail
ks=$(key "$tmp/s.db" 2/1/1/message)
deliver "$tmp/s.db" "$tmp/s.conf" "$T0"
check "SMTP 451: retry" has "$tmp/out" "funnel deliver: 3 delivered, 1 to retry, 0 dead, 1 pending"
row "$tmp/s.db" "$ks" >"$tmp/out"
check "SMTP 451: the reply in the error" has "$tmp/out" "(reply 451)"
deliver "$tmp/s.db" "$tmp/s.conf" 2026-01-12T08:00:02Z
check "SMTP: then delivered" has "$tmp/out" "funnel deliver: 1 delivered, 0 to retry, 0 dead, 0 pending"
check "SMTP: both attempts with the same key" test "$(cut -d' ' -f2,5 "$tmp/smtpB/messages.log" | tr '\n' ' ')" = \
  "451 $ks 250 $ks "

# SMTP AUTH with the configured user and password
start smtp smtpU; SU=$port
conf "$tmp/u.conf" "$SU" 1
sed -i 's|^domain = test.funnel$|domain = test.funnel\nuser = robot@example.ru\npassword = "пароль с пробелом"|' "$tmp/u.conf"
mkdb "$tmp/u.db" "" mail
deliver "$tmp/u.db" "$tmp/u.conf" "$T0"
check "SMTP AUTH: delivered" has "$tmp/out" "funnel deliver: 4 delivered, 0 to retry, 0 dead, 0 pending"
auth=$(sed -n 's/^PLAIN //p' "$tmp/smtpU/auth.log" 2>/dev/null | base64 -d 2>/dev/null | tr '\000' '|')
[ -n "$auth" ] || auth=$(sed -n 's/^LOGIN //p' "$tmp/smtpU/auth.log" 2>/dev/null | tr ' ' '\n' | while read -r w; do printf '%s' "$w" | base64 -d; printf '|'; done)
check "SMTP AUTH: the configured user and password" sh -c "[ '$auth' = '|robot@example.ru|пароль с пробелом' ] || [ '$auth' = 'robot@example.ru|пароль с пробелом|' ]"

# ---- 3. dead after max_attempts; --retry ---------------------------------------------------------
start http httpC --fail 3 --code 503; HC=$port
conf "$tmp/c.conf" 1 "$HC"
mkdb "$tmp/c.db" "http://127.0.0.1:$HC/hook" hook
kc=$(key "$tmp/c.db" 2/3/1/webhook)
deliver "$tmp/c.db" "$tmp/c.conf" "$T0"
deliver "$tmp/c.db" "$tmp/c.conf" 2026-01-12T08:00:02Z
deliver "$tmp/c.db" "$tmp/c.conf" 2026-01-12T08:00:08Z
check "503 three times: dead (max_attempts = 3)" has "$tmp/out" "funnel deliver: 0 delivered, 0 to retry, 1 dead, 0 pending"
row "$tmp/c.db" "$kc" >"$tmp/out"
check "dead: the reason" has "$tmp/out" '"status":"dead","attempts":3'
check "dead: gave up after 3 attempts" has "$tmp/out" 'gave up after 3 attempts: POST http://127.0.0.1:'"$HC"': HTTP 503'
id=$(sed 's/^{"id":\([0-9]*\),.*/\1/' "$tmp/out")
deliver "$tmp/c.db" "$tmp/c.conf" 2026-01-13T08:00:00Z
check "dead: not tried again" test "$(lines "$tmp/httpC/requests.log")" = 3
"$FUNNEL" outbox --db "$tmp/c.db" --retry "$id" --now 2026-01-13T08:00:00Z >"$tmp/out" 2>&1
check "--retry: pending again" has "$tmp/out" "outbox row $id is pending again"
row "$tmp/c.db" "$kc" >"$tmp/out"
check "--retry: attempts from zero, due now" has "$tmp/out" '"status":"pending","attempts":0,"created":"2026-01-12T07:00:00Z","next_try":"2026-01-13T08:00:00Z"'
deliver "$tmp/c.db" "$tmp/c.conf" 2026-01-13T08:00:00Z
check "--retry: then delivered" has "$tmp/out" "funnel deliver: 1 delivered, 0 to retry, 0 dead, 0 pending"
"$FUNNEL" outbox --db "$tmp/c.db" --retry "$id" >"$tmp/out" 2>&1
check "--retry of a delivered row: refused" sh -c "[ $? -eq 1 ] && grep -q 'is delivered, not dead' '$tmp/out'"
"$FUNNEL" outbox --db "$tmp/c.db" --retry 999 >"$tmp/out" 2>&1
check "--retry of no row: refused" sh -c "[ $? -eq 1 ] && grep -q 'no outbox row 999' '$tmp/out'"

# ---- 4. dead at once: 4xx, SMTP 5xx, channels not configured ---------------------------------------
start http httpD --fail 1 --code 400; HD=$port
conf "$tmp/d.conf" 1 "$HD"
mkdb "$tmp/d.db" "http://127.0.0.1:$HD/hook" hook
deliver "$tmp/d.db" "$tmp/d.conf" "$T0"
check "400: dead at once" has "$tmp/out" "funnel deliver: 3 delivered, 0 to retry, 1 dead, 0 pending"
check "400: one request" test "$(lines "$tmp/httpD/requests.log")" = 1
row "$tmp/d.db" "$(key "$tmp/d.db" 2/3/1/webhook)" >"$tmp/out"
check "400: the reason" has "$tmp/out" '"status":"dead","attempts":1'
check "400: HTTP 400 in the error" has "$tmp/out" "HTTP 400: Test Failure"

start smtp smtpD --fail 1 --code 550; SD=$port
conf "$tmp/d2.conf" "$SD" 1
mkdb "$tmp/d2.db" "" mail
deliver "$tmp/d2.db" "$tmp/d2.conf" "$T0"
check "SMTP 550: dead at once" has "$tmp/out" "funnel deliver: 3 delivered, 0 to retry, 1 dead, 0 pending"

printf '[retry]\nbase = 1s\n' >"$tmp/empty.conf"
mkdb "$tmp/d3.db" "" mail phone doc
deliver "$tmp/d3.db" "$tmp/empty.conf" "$T0"
check "channels not configured: dead" has "$tmp/out" "funnel deliver: 3 delivered, 0 to retry, 5 dead, 0 pending"
"$FUNNEL" outbox --db "$tmp/d3.db" >"$tmp/out" 2>&1
check "not configured: e-mail's reason" has "$tmp/out" "e-mail is not configured (no [smtp] in $tmp/empty.conf)"
check "not configured: WhatsApp's reason" has "$tmp/out" "channel whatsapp is not configured (no [whatsapp] in"
check "not configured: documents' reason" has "$tmp/out" "documents are not configured (no [documents] in"

# ---- 5. a crash between sending and marking ---------------------------------------------------------
start smtp smtpF; SF=$port
start http httpF; HF=$port
conf "$tmp/f.conf" "$SF" "$HF"
mkdb "$tmp/f.db" "http://127.0.0.1:$HF/hook" fresh mail phone hook
kf=$(key "$tmp/f.db" 2/2/1/message)
FUNNEL_DELIVER_CRASH_AFTER=2 "$FUNNEL" deliver --db "$tmp/f.db" --config "$tmp/f.conf" --once --now "$T0" >"$tmp/out" 2>&1
rc=$?
check "fault hook: killed after the second send (SIGKILL)" test "$rc" = 137
"$FUNNEL" outbox --db "$tmp/f.db" --json >"$tmp/out" 2>&1
# the local items were delivered before, the e-mail (first send) marked; the SMS sent, not marked
check "after the crash: the SMS is still pending (sent, not marked)" sh -c \
  "grep -F '\"key\":\"$kf\"' '$tmp/out' | grep -q '\"status\":\"pending\",\"attempts\":1'"
deliver "$tmp/f.db" "$tmp/f.conf" "$T0"
check "restart within the lease: claimed rows wait" has "$tmp/out" "funnel deliver: 0 delivered, 0 to retry, 0 dead, 4 pending"
deliver "$tmp/f.db" "$tmp/f.conf" 2026-01-12T08:00:11Z
check "restart after the lease: the rest delivered" has "$tmp/out" "funnel deliver: 4 delivered, 0 to retry, 0 dead, 0 pending"
"$FUNNEL" outbox --db "$tmp/f.db" --json | grep -v '"kind":"\(task\|notify\|ask\)"' |
  sed 's/.*"key":"\([^"]*\)".*/\1/' | sort >"$tmp/f.keys"
{ cut -d' ' -f5 "$tmp/httpF/requests.log"; cut -d' ' -f5 "$tmp/smtpF/messages.log"; } | sort >"$tmp/f.got"
check "crash: every external effect reached its receiver" sh -c "sort -u '$tmp/f.got' | cmp -s - '$tmp/f.keys'"
check "crash: exactly one duplicate, the SMS, with its key" test "$(uniq -d "$tmp/f.got")" = "$kf"
"$FUNNEL" inbox --db "$tmp/f.db" >"$tmp/out" 2>&1
check "crash: the inbox has each item once" has "$tmp/out" "4 items"

# ---- 6. SIGKILL of deliver --follow in the middle of a stream ---------------------------------------
start http httpG --delay 100; HG=$port
conf "$tmp/g.conf" 1 "$HG"
{
  echo '{"op":"clock","at":"2026-01-12T10:00:00+03:00"}'
  echo '{"op":"user","id":"ivan","name":"Иван","roles":["manager"]}'
  i=1
  while [ $i -le 30 ]; do
    echo '{"op":"create","entity":"deal","ref":"g'$i'","direction":"sales","owner":"ivan","fields":{"title":"Сделка '$i'","hook":"http://127.0.0.1:'"$HG"'/g'$i'"}}'
    echo '{"op":"move","ref":"g'$i'","stage":"hook"}'
    i=$((i + 1))
  done
} | "$FUNNEL" run --db "$tmp/g.db" "$pack" >/dev/null 2>&1
"$FUNNEL" deliver --db "$tmp/g.db" --config "$tmp/g.conf" --follow --interval 1 >"$tmp/g.out" 2>&1 &
gpid=$!
i=0
while [ "$(lines "$tmp/httpG/requests.log")" -lt 8 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $gpid 2>/dev/null
wait $gpid 2>/dev/null
before=$(lines "$tmp/httpG/requests.log")
check "follow: killed in the middle (some sent, not all)" sh -c "[ $before -ge 8 ] && [ $before -lt 30 ]"
later=$(date -u -d "@$(($(date +%s) + 3600))" +%Y-%m-%dT%H:%M:%SZ)
deliver "$tmp/g.db" "$tmp/g.conf" "$later"
"$FUNNEL" outbox --db "$tmp/g.db" >"$tmp/out" 2>&1
check "follow killed: after a restart every webhook is delivered" has "$tmp/out" "120 effects: 0 pending, 120 delivered, 0 dead"
"$FUNNEL" outbox --db "$tmp/g.db" --json | grep '"kind":"webhook"' | sed 's/.*"key":"\([^"]*\)".*/\1/' | sort >"$tmp/g.keys"
cut -d' ' -f5 "$tmp/httpG/requests.log" | sort >"$tmp/g.got"
check "follow killed: the receiver saw every key and no other" sh -c "sort -u '$tmp/g.got' | cmp -s - '$tmp/g.keys'"
check "follow killed: at most the one in-flight key twice" sh -c "[ \$(uniq -d '$tmp/g.got' | wc -l) -le 1 ] && [ \$(wc -l <'$tmp/g.got') -le 31 ]"

# SIGTERM: the row at hand finishes, the claimed rest are given back
start http httpH --delay 100; HH=$port
conf "$tmp/h.conf" 1 "$HH"
{
  echo '{"op":"clock","at":"2026-01-12T10:00:00+03:00"}'
  echo '{"op":"user","id":"ivan","name":"Иван","roles":["manager"]}'
  for i in 1 2 3 4 5 6 7 8 9 10; do
    echo '{"op":"create","entity":"deal","ref":"h'$i'","direction":"sales","owner":"ivan","fields":{"title":"Сделка '$i'","hook":"http://127.0.0.1:'"$HH"'/h'$i'"}}'
    echo '{"op":"move","ref":"h'$i'","stage":"hook"}'
  done
} | "$FUNNEL" run --db "$tmp/h.db" "$pack" >/dev/null 2>&1
"$FUNNEL" deliver --db "$tmp/h.db" --config "$tmp/h.conf" --follow >"$tmp/h.out" 2>&1 &
hpid=$!
i=0
while [ "$(lines "$tmp/httpH/requests.log")" -lt 3 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $hpid
wait $hpid
rc=$?
check "SIGTERM: exit 0" test "$rc" = 0
check "SIGTERM: says so" has "$tmp/h.out" "(stopped by a signal)"
sent=$(lines "$tmp/httpH/requests.log")
"$FUNNEL" outbox --db "$tmp/h.db" --json | grep '"kind":"webhook"' >"$tmp/out"
check "SIGTERM: what was sent is marked delivered" test "$(grep -c '"status":"delivered"' "$tmp/out")" = "$sent"
check "SIGTERM: the rest given back untried (attempts 0)" test "$(grep -c '"status":"pending","attempts":0' "$tmp/out")" = "$((10 - sent))"

# --follow picks up effects committed after it started
start http httpK; HK=$port
conf "$tmp/k.conf" 1 "$HK"
mkdb "$tmp/k.db" "http://127.0.0.1:$HK/first" hook
"$FUNNEL" deliver --db "$tmp/k.db" --config "$tmp/k.conf" --follow --interval 1 --quiet >"$tmp/k.out" 2>&1 &
kpid=$!
i=0
while [ "$(lines "$tmp/httpK/requests.log")" -lt 1 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
printf '%s\n' '{"op":"create","entity":"deal","ref":"k2","direction":"sales","owner":"ivan","fields":{"title":"Вторая","hook":"http://127.0.0.1:'"$HK"'/second"}}' \
  '{"op":"move","ref":"k2","stage":"hook"}' | "$FUNNEL" run --db "$tmp/k.db" "$pack" >/dev/null 2>&1
i=0
while [ "$(lines "$tmp/httpK/requests.log")" -lt 2 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $kpid
wait $kpid
check "follow: a web hook made while it runs is delivered" has "$tmp/httpK/requests.log" "2 200 POST /second"
check "follow: the summary counts both passes" has "$tmp/k.out" "funnel deliver: 8 delivered, 0 to retry, 0 dead, 0 pending (stopped by a signal)"

# a server slower than the timeout: retry
start http httpT --delay 3000; HT=$port
conf "$tmp/t.conf" 1 "$HT"
sed -i 's/^timeout = 5s$/timeout = 1s/' "$tmp/t.conf"
mkdb "$tmp/t.db" "http://127.0.0.1:$HT/slow" hook
deliver "$tmp/t.db" "$tmp/t.conf" "$T0"
check "timeout: retry" has "$tmp/out" "funnel deliver: 3 delivered, 1 to retry, 0 dead, 1 pending"
check "timeout: the reason" has "$tmp/out" "timed out"

# ---- a real pack: body-repair's invoice business process, delivered --------------------------------
# (pipelines/body-repair.pipe: a sum moves the deal to approval and makes
# the invoice; the BP asks whether to halve it; the answer makes the half
# invoice, sends it by e-mail, SMS and WhatsApp, and moves the deal on)
start smtp smtpR; SR=$port
start http httpR; HR=$port
conf "$tmp/r.conf" "$SR" "$HR"
sed -i "s|^templates = .*|templates = $srcdir/pipelines/templates|; s|^output = .*|output = $tmp/rdocs|" "$tmp/r.conf"
{
  echo '{"op":"clock","at":"2026-03-10T10:00:00+03:00"}'
  echo '{"op":"user","id":"ivanov","name":"Иван Иванов","roles":["manager","senior_appraiser"]}'
  echo '{"op":"create","entity":"contact","ref":"c1","fields":{"name":"Автобаза №3","client_kind":"company_3","email":"base3@example.ru","phone":"+7 901 111-22-33"}}'
  echo '{"op":"create","entity":"deal","ref":"d1","direction":"body_repair","stage":"inspection","owner":"ivanov","fields":{"title":"Ремонт автобуса ПАЗ","contact":"@c1","object_kind":"bus","photos":["bus.jpg"]}}'
  echo '{"op":"update","ref":"d1","fields":{"sum":"120000.00 RUB"}}'
  echo '{"op":"event","ref":"d1","name":"repair.make_invoice"}'
  echo '{"op":"answer","ref":"d1","question":"half","value":true}'
} | "$FUNNEL" run --db "$tmp/r.db" "$srcdir/pipelines/body-repair.pipe" >"$tmp/out" 2>&1
check "body-repair: the commands run" sh -c "! grep -q '\"ok\":false' '$tmp/out'"
deliver "$tmp/r.db" "$tmp/r.conf" 2026-03-10T08:00:00Z
check "body-repair: every effect delivered" has "$tmp/out" "funnel deliver: 11 delivered, 0 to retry, 0 dead, 0 pending"
check "body-repair: two invoices rendered" test "$(ls "$tmp/rdocs" | grep -c 'document.pdf$')" = 2
half=$tmp/rdocs/$(ls "$tmp/rdocs" | grep 'pdf$' | sort -n | tail -1)   # the later one
check "body-repair: the e-mail to the contact" has "$tmp/smtpR/messages.log" "<base3@example.ru>"
check "body-repair: SMS and WhatsApp to the contact's phone" test "$(grep -c ' 200 POST /' "$tmp/httpR/requests.log")" = 4
if command -v pdftotext >/dev/null 2>&1; then
  pdftotext "$half" "$tmp/half.txt" 2>/dev/null
  check "body-repair: the half invoice reads back (client, amount in words)" sh -c \
    "grep -qF 'Автобаза №3' '$tmp/half.txt' && grep -qF 'Всего к оплате: 60 000,00 руб.' '$tmp/half.txt' && grep -qF 'Шестьдесят тысяч рублей 00 копеек' '$tmp/half.txt'"
fi
"$FUNNEL" inbox --db "$tmp/r.db" --user ivanov >"$tmp/out" 2>&1
check "body-repair: the manager's inbox" sh -c "grep -qF 'Все ОК, ожидаем машину' '$tmp/out' && grep -qF 'ask    Нужно ли располовинить счёт?' '$tmp/out'"

# ---- a real pack: water-delivery: its documents, SMS without `to`, the inbox -------------------------
# (pipelines/water-delivery.pipe: a new client's contract and prepayment
# invoice; the client's regular order on the route sheet: the logistics
# task, an SMS to the contact's phone, the waybill on the delivery day)
start smtp smtpW; SW=$port
start http httpW; HW=$port
conf "$tmp/w.conf" "$SW" "$HW"
sed -i "s|^templates = .*|templates = $srcdir/pipelines/templates|; s|^output = .*|output = $tmp/wdocs|" "$tmp/w.conf"
{
  echo '{"op":"clock","at":"2026-04-14T10:00:00+03:00"}'
  echo '{"op":"user","id":"boss","name":"Руководитель","roles":["manager"]}'
  echo '{"op":"user","id":"olga","name":"Ольга","roles":["manager"],"supervisor":"boss"}'
  echo '{"op":"user","id":"petr","name":"Пётр","roles":["logistics"]}'
  echo '{"op":"create","entity":"contact","ref":"c1","owner":"olga","fields":{"name":"ООО Родничок","email":"office@rodnichok.ru","phone":"+7 903 000-11-22","delivery_address":"Москва, ул. Садовая, 5"}}'
  echo '{"op":"create","entity":"deal","ref":"d1","direction":"new_clients","owner":"olga","fields":{"title":"Вода в офис","contact":"@c1","sum":"4500.00 RUB"}}'
  echo '{"op":"move","ref":"d1","stage":"offer"}'
  echo '{"op":"move","ref":"d1","stage":"contract"}'
  echo '{"op":"event","ref":"d1","name":"payment.received","data":{"amount":"4500.00 RUB"}}'
  echo '{"op":"move","ref":"d1","stage":"won"}'
  echo '{"op":"create","entity":"deal","ref":"d2","direction":"regular","owner":"olga","fields":{"title":"Заказ 20 бутылей","contact":"@c1","sum":"3000.00 RUB"}}'
  echo '{"op":"move","ref":"d2","stage":"taken"}'
  echo '{"op":"update","ref":"d2","fields":{"delivery_date":"2026-04-16","slot":"morning"}}'
  echo '{"op":"advance","to":"2026-04-16T12:00:00+03:00"}'
} | "$FUNNEL" run --db "$tmp/w.db" "$srcdir/pipelines/water-delivery.pipe" >"$tmp/out" 2>&1
check "water-delivery: the commands run" sh -c "! grep -q '\"ok\":false' '$tmp/out'"
deliver "$tmp/w.db" "$tmp/w.conf" 2026-04-16T09:00:00Z
check "water-delivery: every effect delivered, none dead" has "$tmp/out" " 0 to retry, 0 dead, 0 pending"
check "water-delivery: contract, invoice and waybill rendered" \
  test "$(ls "$tmp/wdocs" | grep -c 'document.pdf$')" = 3
check "water-delivery: both SMS to the contact's phone (no 'to' in the pack)" \
  test "$(grep -l '+7 903 000-11-22' "$tmp"/httpW/*.body | wc -l)" = 2
if command -v pdftotext >/dev/null 2>&1; then
  for f in "$tmp"/wdocs/*.pdf; do pdftotext "$f" - 2>/dev/null; done >"$tmp/w.txt"
  check "water-delivery: the documents read back (client, amounts)" sh -c \
    "grep -qF 'ООО Родничок' '$tmp/w.txt' && grep -qF '4 500,00' '$tmp/w.txt' && grep -qF '3 000,00' '$tmp/w.txt'"
fi
"$FUNNEL" inbox --db "$tmp/w.db" --user petr >"$tmp/out" 2>&1
check "water-delivery: the logistics task in the driver's inbox" has "$tmp/out" "Доставка утром (09:00–13:00): ООО Родничок"

# ---- a real pack: machinery-parts: the order status to the site's exchange --------------------------
# (pipelines/machinery-parts.pipe posts each stage of a site order to
# exchange_url(), a placeholder the installer sets: here, the receiver)
start http httpP; HP=$port
conf "$tmp/p.conf" "$SW" "$HP"
sed "s|\"https://dealer.example.ru/crm/exchange\"|\"http://127.0.0.1:$HP/exchange\"|" \
  "$srcdir/pipelines/machinery-parts.pipe" >"$tmp/parts.pipe"
{
  echo '{"op":"clock","at":"2026-04-14T10:00:00+03:00"}'
  echo '{"op":"user","id":"ira","name":"Ирина","roles":["intake","manager"]}'
  echo '{"op":"create","entity":"deal","ref":"o1","direction":"general","owner":"ira","fields":{"title":"Заказ №77","order_no":"77","sum":"10000.00 RUB"}}'
  echo '{"op":"move","ref":"o1","stage":"qualification"}'
} | FUNNEL_STDLIB=$srcdir/stdlib "$FUNNEL" run --db "$tmp/p.db" "$tmp/parts.pipe" >"$tmp/out" 2>&1
check "machinery-parts: the commands run" sh -c "! grep -q '\"ok\":false' '$tmp/out'"
deliver "$tmp/p.db" "$tmp/p.conf" 2026-04-14T08:00:00Z
check "machinery-parts: every effect delivered, none dead" has "$tmp/out" " 0 to retry, 0 dead, 0 pending"
check "machinery-parts: two status posts to the exchange, with their keys" \
  test "$(grep -c ' 200 POST /exchange [0-9]' "$tmp/httpP/requests.log")" = 2
check "machinery-parts: the status body" sh -c \
  "grep -qF '\"order\":\"77\"' '$tmp'/httpP/*.body && grep -qF 'Квалификация' '$tmp'/httpP/*.body"

# ---- 7. configuration errors, usage -----------------------------------------------------------------
printf '[smtp]\nserver = x\nfrom = a@b\nport = 99999\n' >"$tmp/bad1.conf"
"$FUNNEL" deliver --db "$tmp/a.db" --config "$tmp/bad1.conf" --once >"$tmp/out" 2>&1
check "config: a bad port, with FILE:LINE" sh -c "[ $? -eq 1 ] && grep -qF '$tmp/bad1.conf:4: port: 99999 is out of range' '$tmp/out'"
printf '# c\n[retry]\nbase = 2s\nspeed = 3\n' >"$tmp/bad2.conf"
"$FUNNEL" deliver --db "$tmp/a.db" --config "$tmp/bad2.conf" --once >"$tmp/out" 2>&1
check "config: an unknown key" has "$tmp/out" "bad2.conf:4: unknown key 'speed' (base, factor, cap, max_attempts)"
printf '[smtp]\nport = 25\n\n[webhook]\n' >"$tmp/bad3.conf"
"$FUNNEL" deliver --db "$tmp/a.db" --config "$tmp/bad3.conf" --once >"$tmp/out" 2>&1
check "config: a section without what it needs" has "$tmp/out" "bad3.conf:1: [smtp] needs server"
printf '[retry]\nbase = 2 weeks\n' >"$tmp/bad4.conf"
"$FUNNEL" deliver --db "$tmp/a.db" --config "$tmp/bad4.conf" --once >"$tmp/out" 2>&1
check "config: a bad duration" has "$tmp/out" "bad4.conf:2: base: unknown unit ' weeks' (s, m, h or d)"
printf '[mail]\n' >"$tmp/bad5.conf"
"$FUNNEL" deliver --db "$tmp/a.db" --config "$tmp/bad5.conf" --once >"$tmp/out" 2>&1
check "config: an unknown section" has "$tmp/out" "bad5.conf:1: unknown section [mail]"
"$FUNNEL" deliver --db "$tmp/a.db" --config "$tmp/a.conf" --once --follow >"$tmp/out" 2>&1
check "usage: --once and --follow" sh -c "[ $? -eq 2 ] && grep -q 'once or --follow, not both' '$tmp/out'"
"$FUNNEL" deliver --db "$tmp/a.db" --config "$tmp/a.conf" >"$tmp/out" 2>&1
check "deliver without --once or --follow: one pass" sh -c "[ $? -eq 0 ] && grep -q 'funnel deliver: 0 delivered, 0 to retry, 0 dead, 0 pending' '$tmp/out'"
"$FUNNEL" outbox --db "$tmp/nowhere.db" >"$tmp/out" 2>&1
check "a missing database: an error, not a new file" sh -c "[ $? -eq 1 ] && [ ! -e '$tmp/nowhere.db' ]"
printf 'not a database' >"$tmp/junk.db"
"$FUNNEL" outbox --db "$tmp/junk.db" >"$tmp/out" 2>&1
check "not a funnel database: an error" sh -c "[ $? -eq 1 ] && grep -q 'junk.db' '$tmp/out'"
"$FUNNEL" outbox --db "$tmp/a.db" --status sent >"$tmp/out" 2>&1
check "usage: a bad --status" sh -c "[ $? -eq 2 ] && grep -q 'pending, delivered or dead' '$tmp/out'"

# ---- 8. the example session of docs/delivery.md ---------------------------------------------------
doc=$srcdir/docs/delivery.md
# block MARKER: the fenced block after the line <!-- MARKER -->
block() { awk -v m="<!-- $1 -->" '$0 == m {f=1; next} f && /^```/ {if (g) exit; g=1; next} g' "$doc"; }
block delivery.conf >"$tmp/doc.conf"
block session:commands >"$tmp/doc.jsonl"
check "docs: the session's commands are there" test "$(lines "$tmp/doc.jsonl")" = 3
check "docs: the example configuration is there" has "$tmp/doc.conf" "[documents]"
"$FUNNEL" run --db "$tmp/sales.db" "$pack" <"$tmp/doc.jsonl" >"$tmp/out" 2>&1
check "docs: funnel run" sh -c "! grep -q '\"ok\":false' '$tmp/out'"
"$FUNNEL" outbox --db "$tmp/sales.db" >"$tmp/out" 2>&1
block session:outbox >"$tmp/want"
check "docs: funnel outbox prints what the doc shows" cmp -s "$tmp/out" "$tmp/want"
"$FUNNEL" deliver --db "$tmp/sales.db" --config "$tmp/doc.conf" --once >"$tmp/out" 2>&1
block session:deliver >"$tmp/want"
check "docs: funnel deliver (with the example configuration) prints what the doc shows" cmp -s "$tmp/out" "$tmp/want"
"$FUNNEL" inbox --db "$tmp/sales.db" --user ivan >"$tmp/out" 2>&1
block session:inbox >"$tmp/want"
check "docs: funnel inbox prints what the doc shows" cmp -s "$tmp/out" "$tmp/want"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
