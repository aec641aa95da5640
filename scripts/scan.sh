#!/usr/bin/env bash
# Security scan of a running instance with demo data and logged-in sessions (issue 4, "Scanners").
#
#   npm run scan            (reports in reports/scan/, summary in reports/scan/summary.md)
#
# 1. installs wapiti (Debian 12: 3.0.4) and sqlmap (1.7.2) with apt-get when missing;
# 2. starts the app on a free port with a throw-away DATA_DIR (migrated + demo seed);
# 3. logs in with curl cookie jars (CSRF token read from the login page): doctors on /ps, agents on /bo;
# 4. wapiti, modules xss sql blindsql exec file redirect crlf http_headers csrf cookieflags permanentxss
#    methods backup (+ csp), as the doctor, as the agent, and without a session (home + login pages),
#    each run within a time budget that it keeps by itself (section 4: the report is always written);
# 5. sqlmap on the search forms (/ps/search, /bo/recherche, /ps/patient/nir) and the compose forms
#    (/ps/conversations, /bo/conversations, multipart) with the session cookie and the CSRF token;
# 6. stops the server and writes reports/scan/summary.md (per wapiti run: completed or stopped on its
#    budget, what it crawled and attacked; findings per module, sqlmap verdicts, 5xx, health data in the log).
#
# Tunables (environment), defaults sized for a 2-core runner (issue 11 item 14; measured 8 to 12 minutes):
#   SCAN_PORT                 port of the app (default: a free one);
#   WAPITI_BUDGET_PS / _BO / _ANONYMOUS   s per wapiti run, crawl + attacks + report (225 / 225 / 60);
#   WAPITI_MAX_SCAN_TIME      s of crawling at most (45; and at most a quarter of the run's budget);
#   WAPITI_MAX_ATTACK_TIME    s per module at most (150) — a module gets its weighted share of the time left
#                             (WAPITI_WEIGHTS), so the quick ones leave theirs to the injection modules;
#   WAPITI_REQUEST_TIMEOUT    s per request (5; the app answers in milliseconds; blindsql sleeps this + 1);
#   SQLMAP_LEVEL (3), SQLMAP_RISK (2).
# Scoping, so that the budget goes to distinct code paths: one thread of each kind (the others excluded);
# `--scan-force paranoid`, because a form whose hidden values change at each display (draft_version, the
# signed _ctx) is otherwise a new form each time — the doctor's crawl found the same reply form 14 times
# and each copy was attacked by every module; `--skip _csrf --skip _ctx`: both are verified (synchronizer
# token; HMAC signature) before their value is used, so their payloads only ever meet the refusal — the csrf
# module still tests the token; depth, links per page and files per directory bounded as a safety net.
# Every tool run also has a hard `timeout`.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/reports/scan
WAPITI_MODULES="xss,sql,blindsql,exec,file,redirect,crlf,http_headers,csrf,cookieflags,permanentxss,methods,backup,csp"
WAPITI_BUDGET_PS=${WAPITI_BUDGET_PS:-225}
WAPITI_BUDGET_BO=${WAPITI_BUDGET_BO:-225}
WAPITI_BUDGET_ANONYMOUS=${WAPITI_BUDGET_ANONYMOUS:-60}
WAPITI_MAX_ATTACK_TIME=${WAPITI_MAX_ATTACK_TIME:-150}
WAPITI_MAX_SCAN_TIME=${WAPITI_MAX_SCAN_TIME:-45}
WAPITI_REQUEST_TIMEOUT=${WAPITI_REQUEST_TIMEOUT:-5}
SQLMAP_LEVEL=${SQLMAP_LEVEL:-3}
SQLMAP_RISK=${SQLMAP_RISK:-2}
STARTED=$(date +%s)

log() { printf '\n== %s  %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'scan: %s\n' "$*" >&2; exit 1; }

# ---- 1. tools ---------------------------------------------------------------------------------------
missing=()
command -v wapiti >/dev/null 2>&1 || missing+=(wapiti)
command -v sqlmap >/dev/null 2>&1 || missing+=(sqlmap)
if ((${#missing[@]})); then
  log "installing ${missing[*]} (apt-get)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
    || { $SUDO apt-get update && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; }
fi
WAPITI_PYTHON=$(head -n1 "$(command -v wapiti)" | sed 's/^#! *//')
[ -x "${WAPITI_PYTHON%% *}" ] || WAPITI_PYTHON=python3

rm -rf "$OUT"
mkdir -p "$OUT/wapiti" "$OUT/sqlmap"
WORK=$(mktemp -d -t ems-scan.XXXXXX)
DATA_DIR=$WORK/data
mkdir -p "$DATA_DIR"

# ---- 2. the app --------------------------------------------------------------------------------------
PORT=${SCAN_PORT:-$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
HOST=127.0.0.1:$PORT
BASE=http://$HOST
SERVER_PID=""

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM -- "-$SERVER_PID" 2>/dev/null || kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

log "starting the app on $BASE (DATA_DIR=$DATA_DIR)"
# Login limits are raised so that the scanners reach the login handlers instead of the 429 page
# (the limits themselves are proven by test/security/login-rate-limit.test.ts); the idle timeout is
# raised so that the sqlmap sessions outlive the wapiti runs.
env PORT="$PORT" DATA_DIR="$DATA_DIR" LOG_LEVEL=info SESSION_IDLE_MINUTES=120 \
  LOGIN_LIMIT_PER_ADDRESS=100000 LOGIN_LIMIT_PER_CARD=100000 \
  setsid "$ROOT/node_modules/.bin/tsx" src/server.ts >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$OUT/server.log" >&2; die "the app did not start"; }
  sleep 0.5
done
curl -fsS -o /dev/null "$BASE/healthz" || die "the app does not answer on $BASE/healthz"

# ---- 3. sessions ----------------------------------------------------------------------------------------
csrf_of() { grep -o 'name="_csrf" value="[^"]*"' | head -n1 | sed 's/.*value="//; s/"$//'; }
field_of() { grep -o "name=\"$1\" value=\"[^\"]*\"" | head -n1 | sed 's/.*value="//; s/"$//'; }
sid_of() { awk '$6 == "ems.sid" { print $7 }' "$1" | tail -n1; }
token_of() { curl -fsS -b "$1" -c "$1" "$BASE$2" | csrf_of; }

# ps_login JAR NAM — the CPS card whose label carries this N°AM, PIN 1234.
ps_login() {
  local jar=$1 page token card status
  page=$(curl -fsS -c "$jar" -b "$jar" "$BASE/ps/login")
  token=$(csrf_of <<<"$page")
  card=$(grep -o "<option value=\"[0-9]*\">[^<]*$2" <<<"$page" | head -n1 | sed 's/<option value="\([0-9]*\)".*/\1/')
  [ -n "$token" ] && [ -n "$card" ] || die "no CSRF token or card $2 on /ps/login"
  status=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -c "$jar" -b "$jar" \
    --data-urlencode "_csrf=$token" --data-urlencode "card=$card" --data-urlencode "pin=1234" "$BASE/ps/login")
  [ "$status" = "303 $BASE/ps" ] || die "doctor login ($2) failed: $status"
}

# bo_login JAR "First LAST" — the agent of that name.
bo_login() {
  local jar=$1 page token agent status
  page=$(curl -fsS -c "$jar" -b "$jar" "$BASE/bo/login")
  token=$(csrf_of <<<"$page")
  agent=$(grep -o "<option value=\"[0-9]*\">$2 " <<<"$page" | head -n1 | sed 's/<option value="\([0-9]*\)".*/\1/')
  [ -n "$token" ] && [ -n "$agent" ] || die "no CSRF token or agent $2 on /bo/login"
  status=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -c "$jar" -b "$jar" \
    --data-urlencode "_csrf=$token" --data-urlencode "agent=$agent" "$BASE/bo/login")
  [ "$status" = "303 $BASE/bo" ] || die "agent login ($2) failed: $status"
}

select_patient() { # JAR — Inès SOLANA Y FUENTES (CPAM de l'Ain → ELSM 011)
  local status
  status=$(curl -sS -o /dev/null -w '%{http_code}' -b "$1" -c "$1" --data-urlencode "_csrf=$(token_of "$1" /ps/patient)" \
    -d nir=2851175123045 -d key=45 "$BASE/ps/patient/nir")
  [ "$status" = 303 ] || die "patient selection failed: $status"
}

# wapiti 3.0.4 reads a JSON cookie file: { "<ip>": { "<path>": { "<name>": {value, expires, secure, port, version} } } }
wapiti_cookie() { # JAR FILE
  printf '{"127.0.0.1": {"/": {"ems.sid": {"value": "%s", "expires": null, "secure": false, "port": null, "version": 0}}}}\n' "$(sid_of "$1")" >"$2"
}

log "logging in (doctor: Dr Alain GENE; agents: Anna AIN, Marc DUBOIS — ELSM 011)"
PS_W=$WORK/ps-wapiti.jar; PS_S=$WORK/ps-sqlmap.jar; BO_W=$WORK/bo-wapiti.jar; BO_S=$WORK/bo-sqlmap.jar
ps_login "$PS_W" 991101197
ps_login "$PS_S" 991101197
bo_login "$BO_W" "Anna AIN"
bo_login "$BO_S" "Marc DUBOIS"
select_patient "$PS_W"
select_patient "$PS_S"

# A question with a PDF attachment, so that the attachment download route is crawled on both sides.
printf '%%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%%%EOF\n' >"$WORK/compte-rendu.pdf"
page=$(curl -fsS -b "$PS_S" -c "$PS_S" "$BASE/ps/conversations/new")
status=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -b "$PS_S" -c "$PS_S" \
  -F "_csrf=$(csrf_of <<<"$page")" -F "_ctx=$(field_of _ctx <<<"$page")" -F "submission_key=$(field_of submission_key <<<"$page")" \
  -F "subject=Scan : compte rendu joint" -F "body=Question de démonstration pour le scan." -F action=send \
  -F "attachments=@$WORK/compte-rendu.pdf;type=application/pdf" "$BASE/ps/conversations")
case $status in "303 $BASE/ps/conversations/"*) ;; *) die "could not send the question with an attachment: $status";; esac
ATTACHMENT_THREAD=${status##*/}

# One thread of each kind is enough to cover every route pattern; attacking the dozen demo threads
# would only repeat the same forms. Prints the exclusion patterns for the threads not kept:
# other_threads SIDE JAR LIST_PATH... (the first thread of each list is kept, and the attachment thread).
other_threads() {
  local side=$1 jar=$2 keep=" $ATTACHMENT_THREAD " list ids id
  shift 2
  for list in "$@"; do
    ids=$(curl -fsS -b "$jar" -c "$jar" "$BASE$list" | grep -o "href=\"/$side/conversations/[0-9]*\"" | grep -o '[0-9][0-9]*' | awk '!seen[$0]++')
    for id in $ids; do [[ $keep == *" $id "* ]] || { keep+="$id "; break; }; done
    for id in $ids; do [[ $keep == *" $id "* ]] || printf '%s\n' "/$side/conversations/$id" "/$side/conversations/$id/*"; done
  done | sort -u
}
mapfile -t PS_OTHER_THREADS < <(other_threads ps "$PS_W" /ps/messages)
mapfile -t BO_OTHER_THREADS < <(other_threads bo "$BO_W" /bo/bannettes/a-traiter /bo/bannettes/en-cours /bo/bannettes/clos)

# ---- 4. wapiti ---------------------------------------------------------------------------------------------
# wapiti 3.0.4 runs through this wrapper (nothing on disk is changed). Two fixes to the Debian 12 package:
#  - its exclusion patterns compile to "…\Z(?ms)", which Python 3.11 refuses ("global flags not at the
#    start"), so any -x would crash the crawler;
#  - it sends every text field of a multipart form as a *file* part (filename = field name); multer then
#    answers 400 (LIMIT_UNEXPECTED_FILE) before any route runs, so the compose forms would not be tested.
# And a time budget that wapiti 3.0.4 does not have (issue 11, item 14). Its --max-attack-time is checked
# only between two attacked resources (one reply form is hundreds of requests), nothing bounds the sum
# of the modules, and an interrupt during the attacks asks "r/n/q/c?" on stdin: under `timeout` that
# read ends in EOFError and no report is written — what the doctor's run did on 2 cores. So:
#  - the run has a budget (EMS_WAPITI_BUDGET, s, crawl included), and each module a deadline, checked
#    before every request: its share of the time left, weighted (EMS_WAPITI_WEIGHTS, below), capped by
#    WAPITI_MAX_ATTACK_TIME; a quick module leaves its unused share to the next ones. Past its deadline a
#    module stops where it is (no request sent) and the next one starts; past the run's, the remaining
#    modules are skipped and the report is written;
#  - SIGINT / SIGTERM no longer prompt: they stop the crawl (wapiti's own handling) or end the attacks
#    as above, and the report is written;
#  - requests outside the target are refused (the wapp module, although not selected, downloads its
#    database from the Internet when it is loaded: up to 3 × --timeout on an offline runner);
#  - what was done is written to wapiti/NAME.stats.json: crawl time and resources found, per module its
#    budget, time, resources attacked and whether it completed or stopped on its budget.
cat >"$WORK/wapiti.py" <<'PY'
import atexit
import json
import os
import re
import signal
import sys
import time

import requests
import wapitiCore.net.crawler as crawler
from wapitiCore.main import wapiti as wapiti_module

T0 = time.monotonic()
BUDGET = float(os.environ["EMS_WAPITI_BUDGET"])
DEADLINE = T0 + BUDGET
RESERVE = 5.0  # s kept for the report
FLOOR = 10.0  # s at least for a module while the run's budget lasts
CAP = float(os.environ.get("EMS_WAPITI_MODULE_CAP") or 0)
TARGET = os.environ["EMS_WAPITI_TARGET"]
WEIGHTS = {k: float(v) for k, v in (kv.split("=") for kv in os.environ["EMS_WAPITI_WEIGHTS"].split(","))}
STATS = {"budget_s": BUDGET, "crawl": {}, "modules": [], "stopped_by": None, "report_written": False}
state = {"phase": "crawl", "in_module": False, "module_deadline": None, "stop": None}


class OutOfTime(BaseException):
    """Raised before a request once the module's or the run's deadline has passed (never caught by wapiti)."""


def save_stats():
    STATS["seconds"] = round(time.monotonic() - T0, 1)
    with open(os.environ["EMS_WAPITI_STATS"], "w") as out:
        json.dump(STATS, out, indent=1)


atexit.register(save_stats)


def on_signal(signum, _frame):
    state["stop"] = signal.Signals(signum).name
    STATS["stopped_by"] = state["stop"]
    if state["phase"] == "crawl":
        raise KeyboardInterrupt  # wapiti's browse() stops the crawl on it and goes on to the attacks


signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGTERM, on_signal)


def check(url):
    if not url.startswith(TARGET):
        raise requests.exceptions.ConnectionError("scan: request outside the target refused: " + url)
    if state["in_module"]:
        now = time.monotonic()
        if state["stop"] or now >= DEADLINE - RESERVE:
            raise OutOfTime("run")
        if now >= state["module_deadline"]:
            raise OutOfTime("module")


def wildcard_translate(pattern):
    return re.compile("(?ms)" + "".join(".*" if c == "*" else re.escape(c) for c in pattern) + r"\Z")


crawler.wildcard_translate = wildcard_translate
_get, _post, _request = crawler.Crawler.get, crawler.Crawler.post, crawler.Crawler.request


def get(self, resource, follow_redirects=False, headers=None):
    check(resource.url)
    return _get(self, resource, follow_redirects, headers)


def request(self, method, form, follow_redirects=False, headers=None):
    check(form.url)
    return _request(self, method, form, follow_redirects, headers)


def post(self, form, follow_redirects=False, headers=None):
    check(form.url)
    if not form.is_multipart:
        return _post(self, form, follow_redirects, headers)
    session = self._session
    real = session.post

    def plain_fields(*args, **kwargs):
        files = kwargs.get("files")
        if files:
            kwargs["files"] = [(k, v if isinstance(v, (list, tuple)) else (None, v)) for k, v in files]
        return real(*args, **kwargs)

    session.post = plain_fields
    try:
        return _post(self, form, follow_redirects, headers)
    finally:
        del session.post


crawler.Crawler.get, crawler.Crawler.post, crawler.Crawler.request = get, post, request

Wapiti = wapiti_module.Wapiti
_init_attacks, _attack, _browse = Wapiti._init_attacks, Wapiti.attack, Wapiti.browse


def browse(self):
    started = time.monotonic()
    try:
        return _browse(self)
    finally:
        seconds = time.monotonic() - started
        STATS["crawl"] = {"seconds": round(seconds, 1), "max_scan_time": self._max_scan_time,
                          "stopped": "signal" if state["stop"] else (
                              "time budget" if self._max_scan_time and seconds >= self._max_scan_time else None)}


def budgeted(wap, module, original):
    def attack():
        active = [m for m in wap.attacks if m.do_get or m.do_post]
        rest = active[active.index(module):] if module in active else [module]
        started = time.monotonic()
        left = DEADLINE - RESERVE - started
        share = left * WEIGHTS.get(module.name, 1) / sum(WEIGHTS.get(m.name, 1) for m in rest)
        share = min(max(share, FLOOR), left)  # a quick module is not cut short by a tiny share
        budget = max(0.0, min(share, CAP) if CAP else share)
        state["module_deadline"] = started + budget
        record = {"module": module.name, "budget_s": round(budget, 1), "urls": 0, "forms": 0, "status": "completed"}
        STATS["modules"].append(record)
        generator = original()
        try:
            while True:
                state["in_module"] = True
                try:
                    item = next(generator)
                except StopIteration:
                    break
                except OutOfTime as reason:
                    record["status"] = "stopped: run budget" if str(reason) == "run" else "stopped: module budget"
                    if state["stop"]:
                        record["status"] = "stopped: " + state["stop"]
                    break
                except Exception as error:
                    record["status"] = f"ended on {error.__class__.__name__}"
                    raise
                finally:
                    state["in_module"] = False
                if item is not None and not isinstance(item, BaseException):
                    record["forms" if getattr(item, "method", "GET") == "POST" else "urls"] += 1
                yield item
        finally:
            record["seconds"] = round(time.monotonic() - started, 1)
            save_stats()
            print(f"[budget] {module.name}: {record['status']} in {record['seconds']} s of {record['budget_s']} s,"
                  f" {record['urls']} URLs + {record['forms']} forms attacked")

    return attack


def init_attacks(self):
    _init_attacks(self)
    for module in self.attacks:
        module.attack = budgeted(self, module, module.attack)


def attack(self):
    state["phase"] = "attack"
    links = list(self.persister.get_links())
    forms = list(self.persister.get_forms())
    STATS["crawl"].update({"urls": len(links), "urls_with_parameters": sum(1 for r in links if r.get_params),
                           "forms": len(forms)})
    try:
        return _attack(self)
    finally:
        STATS["report_written"] = bool(self.output_file) and os.path.exists(self.output_file)
        save_stats()


Wapiti._init_attacks, Wapiti.attack, Wapiti.browse = init_attacks, attack, browse

sys.argv = ["wapiti"] + sys.argv[1:]
sys.exit(wapiti_module.wapiti_main())
PY

# Module weights for the shares of the run's budget (a module not listed weighs 1). The injection modules
# (several payloads per parameter) weigh most, blindsql the most (218 time-based payloads per parameter:
# weighing 2, it had used its 86 s for 6 of the agent's 8 forms on 2 cores); the modules that read one
# response (http_headers, csp, cookieflags), try a few URLs (backup, methods) or re-read the pages xss
# wrote to (permanentxss) weigh little — they end early and leave their time to the rest. Each module
# gets 10 s at least while the run's budget lasts.
WAPITI_WEIGHTS=${WAPITI_WEIGHTS:-"xss=3,permanentxss=0.5,sql=2.5,blindsql=3,exec=2,file=2,crlf=0.5,redirect=1,csrf=0.5,backup=0.5,methods=0.2,http_headers=0.2,csp=0.2,cookieflags=0.2"}

# run_wapiti NAME "START_PATH..." COOKIE_FILE|"" BUDGET_S EXCLUDED_PATTERN...
# The hard `timeout` (budget + 60 s, then SIGTERM, then SIGKILL 20 s later) is only a safety net: the
# wrapper ends the attacks and writes the report by itself within the budget.
run_wapiti() {
  local name=$1 starts=$2 cookie=$3 budget=$4 args=() start pattern crawl
  shift 4
  crawl=$WAPITI_MAX_SCAN_TIME
  ((crawl <= budget / 4)) || crawl=$((budget / 4))
  args=(-u "$BASE/" --scope folder -m "$WAPITI_MODULES"
        -H "Accept-Encoding: gzip, deflate"   # requests announces br but cannot decode it: pages would look empty
        -x "$BASE/logout" -x "$BASE/session/*"
        --scan-force paranoid --depth 8 --max-links-per-page 60 --max-files-per-dir 40
        --skip _csrf --skip _ctx)
  for start in $starts; do args+=(-s "$BASE$start"); done
  for pattern in "$@"; do args+=(-x "$BASE$pattern"); done
  [ -n "$cookie" ] && args+=(-c "$cookie")
  args+=(--flush-session --store-session "$WORK/wapiti-$name" --store-config "$WORK/wapiti-config"
         --max-scan-time "$crawl" -t "$WAPITI_REQUEST_TIMEOUT" --no-bugreport --verbose 1)
  log "wapiti ($name): start $starts; budget $budget s (crawl ≤ $crawl s)"
  local t0=$SECONDS
  EMS_WAPITI_BUDGET=$budget EMS_WAPITI_TARGET="$BASE/" EMS_WAPITI_WEIGHTS="$WAPITI_WEIGHTS" \
    EMS_WAPITI_MODULE_CAP="$WAPITI_MAX_ATTACK_TIME" EMS_WAPITI_STATS="$OUT/wapiti/$name.stats.json" \
    timeout --signal=TERM --kill-after=20 $((budget + 60)) $WAPITI_PYTHON "$WORK/wapiti.py" "${args[@]}" \
    -f json -o "$OUT/wapiti/$name.json" </dev/null >"$OUT/wapiti/$name.log" 2>&1 \
    || echo "wapiti ($name) ended with status $?" | tee -a "$OUT/wapiti/$name.log"
  grep '^\[budget\]' "$OUT/wapiti/$name.log" | sed 's/^/  /' || true
  echo "wapiti ($name): $((SECONDS - t0)) s"
}

# Not crawled while signed in: the login forms (a login would replace the scanner's session), the
# other side (404 by design), and the delete / close confirmations (they would empty the thread list
# the other modules attack). "Changer de patient" would drop the patient the compose form needs.
# Without a session, /bo/login is left out: the crawler submits each form once with its first option,
# which signs in as the first agent (the demo's agent login has no secret), and the run would then
# attack the back office with a stale CSRF token instead of the public pages.
wapiti_cookie "$PS_W" "$WORK/ps.json"
wapiti_cookie "$BO_W" "$WORK/bo.json"
run_wapiti ps "/ps /ps/patient" "$WORK/ps.json" "$WAPITI_BUDGET_PS" \
  "/ps/login*" "/bo*" "/*/delete" "/*/close" "/ps/patient/clear" "${PS_OTHER_THREADS[@]}"
run_wapiti bo /bo "$WORK/bo.json" "$WAPITI_BUDGET_BO" \
  "/bo/login*" "/ps*" "/*/delete" "/*/close" "${BO_OTHER_THREADS[@]}"
run_wapiti anonymous / "" "$WAPITI_BUDGET_ANONYMOUS" "/bo/login*"

# ---- 5. sqlmap ----------------------------------------------------------------------------------------------
SQLMAP_COMMON=(--batch --ignore-stdin --answers="follow=Y,resend=N,merge=N" --level="$SQLMAP_LEVEL" --risk="$SQLMAP_RISK"
  --dbms=SQLite --time-sec=2 --timeout=10 --retries=1 --skip-waf --drop-set-cookie --flush-session
  --output-dir="$OUT/sqlmap" --disable-coloring -v 1)

run_sqlmap() { # NAME HARD_TIMEOUT ARGS...
  local name=$1 hard=$2 t0=$SECONDS
  shift 2
  log "sqlmap ($name)"
  timeout --kill-after=15 "$hard" sqlmap "$@" "${SQLMAP_COMMON[@]}" >"$OUT/sqlmap/$name.log" 2>&1 \
    || echo "sqlmap ($name) ended with status $?" | tee -a "$OUT/sqlmap/$name.log"
  grep -E "identified the following injection|do not appear to be injectable|does not seem to be injectable|is vulnerable|CRITICAL|ERROR" \
    "$OUT/sqlmap/$name.log" | sed 's/^/  /' || true
  echo "sqlmap ($name): $((SECONDS - t0)) s"
}

# Multipart request file for sqlmap -r (the token is the session's synchronizer token, stable for the session).
B=----emsScanBoundary7MA4YWxkTrZu0gW
multipart_request() { # JAR PATH FIELD=VALUE...
  local jar=$1 path=$2 kv
  shift 2
  printf 'POST %s HTTP/1.1\r\nHost: %s\r\nCookie: ems.sid=%s\r\nContent-Type: multipart/form-data; boundary=%s\r\n\r\n' "$path" "$HOST" "$(sid_of "$jar")" "$B"
  for kv in "$@"; do
    printf -- '--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' "$B" "${kv%%=*}" "${kv#*=}"
  done
  printf -- '--%s--\r\n' "$B"
}

PS_COOKIE="ems.sid=$(sid_of "$PS_S")"
BO_COOKIE="ems.sid=$(sid_of "$BO_S")"

run_sqlmap ps-search 180 -u "$BASE/ps/search" --cookie="$PS_COOKIE" \
  --data="_csrf=$(token_of "$PS_S" /ps/messages)&nom=SOLANA&nir=" -p nom,nir --csrf-token=_csrf --csrf-url="$BASE/ps/messages"

run_sqlmap ps-patient-nir 180 -u "$BASE/ps/patient/nir" --cookie="$PS_COOKIE" \
  --data="_csrf=$(token_of "$PS_S" /ps/patient)&nir=2851175123045&key=45" -p nir,key --csrf-token=_csrf --csrf-url="$BASE/ps/patient"

run_sqlmap bo-search 300 -u "$BASE/bo/recherche" --cookie="$BO_COOKIE" \
  --data="_csrf=$(token_of "$BO_S" /bo/recherche)&patient_nom=SOLANA&patient_prenom=INES&patient_nir=2851175123045&ps_nam=991101197&ps_cp=34170&ps_ville=CASTELNAU&ps_nom=GENE&agent_nom=AIN&agent_prenom=ANNA" \
  -p patient_nom,patient_prenom,patient_nir,ps_nam,ps_cp,ps_ville,ps_nom,agent_nom,agent_prenom \
  --csrf-token=_csrf --csrf-url="$BASE/bo/recherche"

select_patient "$PS_S"
page=$(curl -fsS -b "$PS_S" -c "$PS_S" "$BASE/ps/conversations/new")
multipart_request "$PS_S" /ps/conversations "_csrf=$(csrf_of <<<"$page")" "_ctx=$(field_of _ctx <<<"$page")" \
  "submission_key=$(field_of submission_key <<<"$page")" "subject=Question du scan" "body=Texte du scan" "action=send" \
  >"$WORK/ps-compose.http"
run_sqlmap ps-compose 240 -r "$WORK/ps-compose.http" -p subject,body --randomize=submission_key

page=$(curl -fsS -b "$BO_S" -c "$BO_S" "$BASE/bo/conversations/new")
# Two requests: sqlmap 1.7.2 puts its payload in the part header when the tested multipart value is
# empty (busboy then refuses the body: 400), so each tested field must carry a value — the NIR OD of
# a patient of the ELSM in one, the N°AM of a liberal doctor in the other.
multipart_request "$BO_S" /bo/conversations "_csrf=$(csrf_of <<<"$page")" "_ctx=$(field_of _ctx <<<"$page")" \
  "submission_key=$(field_of submission_key <<<"$page")" "nir_od=2851175123045" "destinataire=" \
  "subject=Question du scan" "body=Texte du scan" "action=lookup" >"$WORK/bo-compose.http"
run_sqlmap bo-compose 300 -r "$WORK/bo-compose.http" -p nir_od,subject,body --randomize=submission_key
multipart_request "$BO_S" /bo/conversations "_csrf=$(csrf_of <<<"$page")" "_ctx=$(field_of _ctx <<<"$page")" \
  "submission_key=$(field_of submission_key <<<"$page")" "nir_od=" "destinataire=991101197" \
  "subject=Question du scan" "body=Texte du scan" "action=lookup" >"$WORK/bo-compose-destinataire.http"
run_sqlmap bo-compose-destinataire 120 -r "$WORK/bo-compose-destinataire.http" -p destinataire --randomize=submission_key

# ---- 6. stop and summarise ------------------------------------------------------------------------------------
log "stopping the app"
stop_server
ELAPSED=$(($(date +%s) - STARTED))

python3 - "$OUT" "$ELAPSED" "$BASE" <<'PY'
import collections, datetime, glob, json, os, re, sys

out, elapsed, base = sys.argv[1], int(sys.argv[2]), sys.argv[3]
module_of = {
    "Cross Site Scripting": "xss", "SQL Injection": "sql", "Blind SQL Injection": "blindsql", "Command execution": "exec",
    "Path Traversal": "file", "Open Redirect": "redirect", "CRLF Injection": "crlf", "HTTP Secure Headers": "http_headers",
    "Cross Site Request Forgery": "csrf", "Secure Flag cookie": "cookieflags", "HttpOnly Flag cookie": "cookieflags",
    "Stored Cross Site Scripting": "permanentxss", "Backup file": "backup", "Htaccess Bypass": "htaccess",
    "Content Security Policy Configuration": "csp", "Internal Server Error": "(any)", "Resource consumption": "(any)",
}
lines = [f"# Scan summary — {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}", "",
         f"Target: {base} (demo data, throw-away DATA_DIR). Duration: {elapsed // 60} min {elapsed % 60} s.", ""]
lines += ["## wapiti 3.0.4", "", "| run | outcome | time (budget) | crawled | attacked (URLs + forms) per module |",
          "|---|---|---|---|---|"]
for run in ("ps", "bo", "anonymous"):
    try:
        stats = json.load(open(os.path.join(out, "wapiti", f"{run}.stats.json")))
    except Exception as err:
        lines.append(f"| {run} | **no statistics** ({err.__class__.__name__}: see wapiti/{run}.log) | | | |")
        continue
    modules = stats.get("modules", [])
    stopped = [m["module"] for m in modules if m["status"] != "completed"]
    if not os.path.exists(os.path.join(out, "wapiti", f"{run}.json")):
        outcome = "**no report**"
    elif stats.get("stopped_by"):
        outcome = f"stopped by {stats['stopped_by']} (report written)"
    elif stopped:
        outcome = "stopped on its time budget in " + ", ".join(stopped) + " (report written)"
    else:
        outcome = "completed (report written)"
    crawl = stats.get("crawl", {})
    crawled = (f"{crawl.get('urls', '?')} URLs ({crawl.get('urls_with_parameters', '?')} with parameters)"
               f" + {crawl.get('forms', '?')} forms in {crawl.get('seconds', '?')} s"
               + (f", crawl stopped by its {crawl.get('max_scan_time')} s limit" if crawl.get("stopped") else ""))
    per_module = "; ".join(
        f"{m['module']} {m['urls']}+{m['forms']}" + ("" if m["status"] == "completed" else f" **{m['status'][9:]}**")
        + f" ({m.get('seconds', '?')}/{m['budget_s']} s)"
        for m in modules)
    lines.append(f"| {run} | {outcome} | {stats.get('seconds', '?')} s ({stats.get('budget_s', '?'):.0f} s) | {crawled} | {per_module} |")
lines += ["", "A module's figures: resources attacked (URLs + forms), time used / its share of the run's budget;",
          "**module budget** / **run budget**: it stopped there, the resources not listed were not attacked by it.", ""]
lines += ["| run | kind | category (module) | count |", "|---|---|---|---|"]
details = []
for run in ("ps", "bo", "anonymous"):
    path = os.path.join(out, "wapiti", f"{run}.json")
    try:
        report = json.load(open(path))
    except Exception as err:  # a run that did not finish (see its .log)
        lines.append(f"| {run} | — | **no report** ({err.__class__.__name__}: see wapiti/{run}.log) | — |")
        continue
    total = 0
    for kind in ("vulnerabilities", "anomalies", "additionals"):
        for category, items in sorted(report.get(kind, {}).items()):
            if not items:
                continue
            total += len(items)
            lines.append(f"| {run} | {kind} | {category} ({module_of.get(category, '?')}) | {len(items)} |")
            for item in items:
                details.append(f"- [{run}] {category}: {item.get('method', '')} {item.get('path', '')}"
                               f" — parameter `{item.get('parameter', '')}` — {item.get('info', '').strip()}")
    if total == 0:
        lines.append(f"| {run} | — | nothing found | 0 |")
lines += ["", "### wapiti findings", ""] + (details or ["- none"])

lines += ["", "## sqlmap 1.7.2", "", "| target | verdict |", "|---|---|"]
for path in sorted(glob.glob(os.path.join(out, "sqlmap", "*.log"))):
    text = open(path, errors="replace").read()
    name = os.path.basename(path)[:-4]
    if "identified the following injection point" in text:
        verdict = "**INJECTABLE** (see the log)"
    elif "do not appear to be injectable" in text:
        tested = re.findall(r"parameter '([^']+)' does not seem to be injectable", text)
        verdict = f"not injectable ({', '.join(tested)})"
    else:
        verdict = "no verdict (interrupted or error: see the log)"
    lines.append(f"| {name} | {verdict} |")

statuses, errors, leaks, malformed = collections.Counter(), [], collections.Counter(), collections.Counter()
server_log = os.path.join(out, "server.log")
for raw in open(server_log, errors="replace"):
    for needle in ("2851175123045", "SOLANA", "Texte du scan", "Question du scan"):
        if needle in raw:
            leaks[needle] += 1
    try:
        entry = json.loads(raw)
    except ValueError:
        continue
    if entry.get("msg") == "request":
        statuses[entry.get("status")] += 1
        if entry.get("status") == 400:
            malformed[f"{entry.get('method')} {entry.get('route')}"] += 1
        if int(entry.get("status", 0)) >= 500:
            errors.append(f"- {entry.get('method')} {entry.get('route')} → {entry.get('status')}")
    elif entry.get("level", 0) >= 50:
        errors.append(f"- logged error: {entry.get('msg')} {entry.get('reference', '')} {str(entry.get('err', ''))[:300]}")
lines += ["", "## The app under attack (server.log)", "",
          "Responses by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0]))), "",
          f"5xx responses / logged errors: {len(errors)}"] + sorted(set(errors))[:50]
lines += ["", "400 (request refused by a parser) by route: "
          + (", ".join(f"{k} ×{v}" for k, v in malformed.most_common()) if malformed else "none")]
lines += ["", "Health data in the log (NIR, patient name, typed subject or text): "
          + (", ".join(f"{k} ×{v}" for k, v in leaks.items()) if leaks else "none")]
summary = "\n".join(lines) + "\n"
open(os.path.join(out, "summary.md"), "w").write(summary)
print(summary)
PY
echo "Reports: $OUT (summary.md, wapiti/*.json, sqlmap/*.log, server.log)"
