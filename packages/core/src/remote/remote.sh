#!/bin/sh
# The one entry point comfy-vast runs on a server. Every subcommand prints JSON lines only, so the client never
# parses free text. Long actions (setup, reset, download) run detached with their log and exit code in files under
# this script's folder, so they survive a dropped connection and are re-attached with `tail` from a byte offset.
# Values arrive as separate arguments (never evaluated); secrets arrive on stdin, never on a command line.
set -u
umask 077
# Byte-wise patterns: [A-Z] ranges mean ASCII letters only.
LC_ALL=C
export LC_ALL

STATE=$(cd "$(dirname "$0")" && pwd)
SELF="$STATE/$(basename "$0")"
JOBS="$STATE/jobs"

say() { printf '%s\n' "$1"; }

# A value as a JSON string body: control characters dropped, backslash and quote escaped.
json_str() { printf '%s' "$1" | tr '\n\t' '  ' | tr -d '\000-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }

fail() { say "{\"error\":\"$(json_str "$1")\",\"reason\":\"$2\"}"; exit "$3"; }

usage() { fail "$1" usage 2; }

need() { [ "$#" -ge 2 ] || usage "missing value for $1"; }

size_of() { if [ -f "$1" ]; then echo $(($(wc -c <"$1"))); else echo 0; fi; }

nap() { sleep "$1" 2>/dev/null || sleep 1; }

required() { for value in "$@"; do [ -n "$value" ] || usage "a required option is missing"; done; }
check_id() { case $1 in '' | *[!A-Za-z0-9_-]*) usage "invalid job id" ;; esac; }
check_folder() { case $1 in '' | *[!a-z0-9_]*) usage "invalid model folder" ;; esac; }
# Plain names only (the library's allow-list): letters, digits and _.+-()[] ,=@, no leading dash or dot, no "..".
check_name() {
  case $1 in '' | -* | .* | *..*) usage "invalid file name" ;; esac
  [ "$(printf '%s|' "$1" | tr -d 'A-Za-z0-9_.+() ,=@\133\135-')" = '|' ] || usage "invalid file name"
}
check_url() { case $1 in *[[:space:][:cntrl:]]*) usage "invalid url" ;; http://* | https://*) ;; *) usage "invalid url" ;; esac; }
check_path() { case $1 in /*) ;; *) usage "paths must be absolute" ;; esac; }
check_sha() { case $1 in '' | *[!0-9a-f]*) usage "invalid sha256" ;; esac; [ "${#1}" -eq 64 ] || usage "invalid sha256"; }
check_port() { case $1 in '' | *[!0-9]*) usage "invalid port" ;; esac; }

# --- options --------------------------------------------------------------------------------------------------------

JOB_ID='' OFFSET=0 DIR='' VENV='' REPO='' REF='' PYTHON=python3 PORT=18188 WAIT=300 PIP_INDEX='' MODELS=''
FOLDER='' NAME='' URL='' SHA='' TOKEN_STDIN=0 KEEP_MODELS=1 BASIC_MODELS=''

parse() {
  while [ "$#" -gt 0 ]; do
    case $1 in
      --job) need "$@"; check_id "$2"; JOB_ID=$2; shift 2 ;;
      --offset) need "$@"; case $2 in '' | *[!0-9]*) usage "invalid offset" ;; esac; OFFSET=$2; shift 2 ;;
      --dir) need "$@"; check_path "$2"; DIR=$2; shift 2 ;;
      --venv) need "$@"; check_path "$2"; VENV=$2; shift 2 ;;
      --models) need "$@"; check_path "$2"; MODELS=$2; shift 2 ;;
      --repo) need "$@"; check_url "$2"; REPO=$2; shift 2 ;;
      --ref) need "$@"; case $2 in '' | -*) usage "invalid ref" ;; esac; REF=$2; shift 2 ;;
      --python) need "$@"; case $2 in '' | -*) usage "invalid python" ;; esac; PYTHON=$2; shift 2 ;;
      --port) need "$@"; check_port "$2"; PORT=$2; shift 2 ;;
      --wait) need "$@"; check_port "$2"; WAIT=$2; shift 2 ;;
      --pip-index) need "$@"; check_url "$2"; PIP_INDEX=$2; shift 2 ;;
      --folder) need "$@"; check_folder "$2"; FOLDER=$2; shift 2 ;;
      --name) need "$@"; check_name "$2"; NAME=$2; shift 2 ;;
      --url) need "$@"; check_url "$2"; URL=$2; shift 2 ;;
      --sha256) need "$@"; check_sha "$2"; SHA=$2; shift 2 ;;
      --token-stdin) TOKEN_STDIN=1; shift ;;
      --keep-models) need "$@"; case $2 in 0 | 1) KEEP_MODELS=$2 ;; *) usage "invalid keep-models" ;; esac; shift 2 ;;
      # A basic model of setup: folder, name and url, one line each in a list the worker reads back.
      --model)
        [ "$#" -ge 4 ] || usage "--model needs folder, name and url"
        check_folder "$2"; check_name "$3"; check_url "$4"
        BASIC_MODELS="$BASIC_MODELS$2
$3
$4
"
        shift 4 ;;
      *) usage "unknown option $1" ;;
    esac
  done
}

# --- jobs -----------------------------------------------------------------------------------------------------------

# Prints the job's log from byte OFFSET, following it until the job has written its exit code. While the log is
# quiet an empty line goes out every few seconds: once the client has left, that write ends this follower.
follow() {
  dir=$1 off=$2 quiet=0
  while :; do
    finished=0
    [ -f "$dir/rc" ] && finished=1
    size=$(size_of "$dir/log")
    if [ "$size" -gt "$off" ]; then
      tail -c +"$((off + 1))" "$dir/log" | head -c "$((size - off))"
      off=$size quiet=0
    elif [ "$quiet" -ge 15 ]; then
      printf '\n' || exit 1
      quiet=0
    else
      quiet=$((quiet + 1))
    fi
    [ "$finished" = 1 ] && return 0
    # A worker gone without an exit code (the box rebooted, or it was killed) is recorded as lost, once; one that
    # `cancel` stopped is recorded by it.
    pid=$(cat "$dir/pid" 2>/dev/null || true)
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && [ ! -f "$dir/rc" ] && [ ! -d "$dir/cancelling" ] && mkdir "$dir/lost" 2>/dev/null; then
      say '{"done":true,"rc":255,"lost":true}' >>"$dir/log"
      echo 255 >"$dir/rc"
    fi
    nap 0.2
  done
}

# Starts KIND detached unless a job with this id exists (so nothing starts twice), then follows its log from --offset.
start_job() {
  kind=$1
  [ -n "$JOB_ID" ] || usage "--job is required"
  dir="$JOBS/$JOB_ID"
  mkdir -p "$JOBS"
  if mkdir "$dir" 2>/dev/null; then
    if [ "$TOKEN_STDIN" = 1 ]; then
      IFS= read -r token || true
      case $token in *[!A-Za-z0-9_.-]*) rm -rf "$dir"; usage "invalid token" ;; esac
      printf '%s\n' "$token" >"$dir/token"
      token=''
    fi
    printf '%s\n' "$kind" >"$dir/kind"
    : >"$dir/log"
    shift
    if command -v setsid >/dev/null 2>&1; then
      setsid nohup sh "$SELF" __worker "$dir" "$kind" "$@" </dev/null >/dev/null 2>&1 &
    else
      nohup sh "$SELF" __worker "$dir" "$kind" "$@" </dev/null >/dev/null 2>&1 &
    fi
    echo "$!" >"$dir/pid"
  fi
  follow "$dir" "$OFFSET"
}

worker() {
  dir=$1 kind=$2
  shift 2
  parse "$@"
  TOKEN=''
  if [ -f "$dir/token" ]; then
    IFS= read -r TOKEN <"$dir/token" || true
    rm -f "$dir/token"
  fi
  OUT="$dir/output"
  ("run_$kind") >>"$dir/log" 2>>"$OUT"
  rc=$?
  say "{\"done\":true,\"rc\":$rc}" >>"$dir/log"
  echo "$rc" >"$dir/rc.tmp" && mv -f "$dir/rc.tmp" "$dir/rc"
}

# --- downloads ------------------------------------------------------------------------------------------------------

# curl's configuration on its stdin, so the token never appears on a command line. Every curl call takes the URL
# literally (--globoff): braces and brackets are parts of a path, not lists to expand.
curl_cfg() { [ -n "${TOKEN:-}" ] && printf 'header = "Authorization: Bearer %s"\n' "$TOKEN"; return 0; }

remote_size() {
  curl_cfg | curl -sSIL -K - --globoff --max-time 60 "$1" 2>>"$OUT" | tr -d '\r' |
    awk '/^HTTP\// { v = "" } tolower($1) == "content-length:" { v = $2 } END { print v }'
}

progress() { if [ -n "$2" ]; then say "{\"bytes\":$1,\"total\":$2}"; else say "{\"bytes\":$1,\"total\":null}"; fi; }

# Fetches URL into TARGET through TARGET.part: resumed with Range after any interruption, size checked against
# Content-Length, sha256 checked when given, renamed only when verified.
fetch_verified() {
  url=$1 target=$2 sha=$3
  part="$target.part"
  total=$(remote_size "$url" || true)
  case $total in *[!0-9]*) total='' ;; esac
  have=$(size_of "$part")
  if [ -n "$total" ] && [ "$have" -gt "$total" ]; then rm -f "$part"; have=0; fi
  if [ -n "$total" ]; then
    free=$(df -Pk "$(dirname "$target")" | awk 'NR == 2 { print $4 }')
    if [ $(((total - have) / 1024)) -ge "$free" ]; then
      say "{\"error\":\"not enough disk space\",\"reason\":\"disk\",\"need\":$((total - have)),\"free\":$((free * 1024))}"
      return 3
    fi
  fi
  progress "$have" "$total"
  attempt=0
  last=$have
  while [ -z "$total" ] || [ "$(size_of "$part")" -lt "$total" ]; do
    curl_cfg | curl -sS -f -L -K - --globoff -C - -o "$part" --connect-timeout 30 --speed-limit 1 --speed-time 120 "$url" 2>>"$OUT" &
    cpid=$!
    while kill -0 "$cpid" 2>/dev/null; do
      now=$(size_of "$part")
      [ "$now" != "$last" ] && progress "$now" "$total" && last=$now
      nap 1
    done
    wait "$cpid"
    crc=$?
    if [ "$crc" = 0 ]; then
      [ -z "$total" ] || [ "$(size_of "$part")" -ge "$total" ] && break
    fi
    [ "$crc" = 22 ] && fail "the server refused the download" http 4
    [ "$crc" = 3 ] && fail "curl cannot use this URL" url 4
    # The server ignores ranges: start over rather than append a second copy.
    [ "$crc" = 33 ] && rm -f "$part"
    attempt=$((attempt + 1))
    [ "$attempt" -ge 5 ] && fail "the download kept failing (curl $crc)" transfer 7
    say "{\"retry\":$attempt,\"curl\":$crc}"
    nap "$attempt"
  done
  got=$(size_of "$part")
  progress "$got" "$got"
  if [ -n "$total" ] && [ "$got" != "$total" ]; then
    rm -f "$part"
    fail "size $got differs from Content-Length $total" size 5
  fi
  if [ -n "$sha" ] && [ "$(sha256sum "$part" | cut -c1-64)" != "$sha" ]; then
    rm -f "$part"
    fail "sha256 mismatch" checksum 6
  fi
  mv -f "$part" "$target"
}

run_download() {
  mkdir -p "$MODELS/$FOLDER"
  target="$MODELS/$FOLDER/$NAME"
  if [ -f "$target" ]; then
    got=$(size_of "$target")
    if [ -z "$SHA" ] || [ "$(sha256sum "$target" | cut -c1-64)" = "$SHA" ]; then progress "$got" "$got"; return 0; fi
  fi
  fetch_verified "$URL" "$target" "$SHA"
}

# --- setup ----------------------------------------------------------------------------------------------------------

STEP_BASE=0 STEPS=6

step() {
  n=$((STEP_BASE + $1))
  if [ "$3" = skipped ]; then
    say "{\"step\":$n,\"of\":$STEPS,\"name\":\"$2\",\"skipped\":true}"
  else
    say "{\"step\":$n,\"of\":$STEPS,\"name\":\"$2\"}"
  fi
}

# Runs a command with its output in the job's output file; on failure reports its last line.
quietly() {
  "$@" >>"$OUT" 2>&1 && return 0
  fail "$(tail -n 1 "$OUT" 2>/dev/null)" command 1
}

comfy_answers() { curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$PORT/system_stats"; }

has_supervised_comfy() { command -v supervisorctl >/dev/null 2>&1 && supervisorctl status comfyui >/dev/null 2>&1; }

clone_comfy() {
  rm -rf "$DIR.clone"
  set -- "$REPO" "$DIR.clone"
  [ -n "$REF" ] && set -- --branch "$REF" "$@"
  # Dumb HTTP remotes cannot serve a shallow clone: fall back to a full one.
  export GIT_TERMINAL_PROMPT=0
  git clone --depth 1 "$@" >>"$OUT" 2>&1 || {
    rm -rf "$DIR.clone"
    quietly git clone "$@"
  }
  # What the folder already held (models kept by a reset, an environment made inside it) moves into the checkout.
  for entry in "$DIR"/* "$DIR"/.[!.]* "$DIR"/..?*; do
    [ -e "$entry" ] || continue
    base=$(basename "$entry")
    [ "$base" = models ] && rm -rf "$DIR.clone/models"
    [ -e "$DIR.clone/$base" ] || mv "$entry" "$DIR.clone/$base"
  done
  rm -rf "$DIR"
  mv "$DIR.clone" "$DIR"
}

setup_steps() {
  [ -n "$VENV" ] || VENV="$DIR/venv"

  name="Installing system dependencies"
  if command -v git >/dev/null 2>&1 && command -v "$PYTHON" >/dev/null 2>&1 && command -v curl >/dev/null 2>&1; then
    step 1 "$name" skipped
  else
    step 1 "$name" run
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then fail "git, python3 and curl are missing" deps 1; fi
    quietly apt-get update -qq
    export DEBIAN_FRONTEND=noninteractive
    quietly apt-get install -y -qq git python3 python3-venv curl
  fi

  name="Setting up Python environment"
  if "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    step 2 "$name" skipped
  else
    step 2 "$name" run
    quietly "$PYTHON" -m venv "$VENV"
  fi

  name="Cloning ComfyUI repository"
  if [ -d "$DIR/.git" ]; then
    step 3 "$name" skipped
  else
    step 3 "$name" run
    clone_comfy
  fi

  name="Installing ComfyUI requirements"
  marker="$VENV/.comfy-vast-requirements"
  wanted=$(sha256sum "$DIR/requirements.txt" 2>/dev/null | cut -c1-64)
  if [ -n "$wanted" ] && [ "$(cat "$marker" 2>/dev/null)" = "$wanted" ]; then
    step 4 "$name" skipped
  else
    step 4 "$name" run
    set -- --disable-pip-version-check --no-input -r "$DIR/requirements.txt"
    [ -n "$PIP_INDEX" ] && set -- --index-url "$PIP_INDEX" "$@"
    quietly "$VENV/bin/python" -m pip install "$@"
    printf '%s\n' "$wanted" >"$marker"
  fi

  name="Downloading basic models"
  missing=0
  list="$dir/models.list"
  printf '%s' "$BASIC_MODELS" >"$list"
  while IFS= read -r f && IFS= read -r n && IFS= read -r u; do
    [ -f "$DIR/models/$f/$n" ] || missing=1
  done <"$list"
  if [ "$missing" = 0 ]; then
    step 5 "$name" skipped
  else
    step 5 "$name" run
    while IFS= read -r f && IFS= read -r n && IFS= read -r u; do
      mkdir -p "$DIR/models/$f"
      [ -f "$DIR/models/$f/$n" ] || fetch_verified "$u" "$DIR/models/$f/$n" '' </dev/null || exit "$?"
    done <"$list"
  fi

  name="Starting ComfyUI server"
  if comfy_answers; then
    step 6 "$name" skipped
    return 0
  fi
  step 6 "$name" run
  if has_supervised_comfy; then
    # Images that supervise ComfyUI (vastai/comfy) keep it behind their proxy's password: start it there.
    quietly supervisorctl start comfyui
  else
    # Listening on loopback only: the server's authenticating proxy is the one way in from outside.
    (cd "$DIR" && setsid nohup "$VENV/bin/python" main.py --listen 127.0.0.1 --port "$PORT" \
      </dev/null >>"$STATE/comfy.log" 2>&1 &
      echo "$!" >"$STATE/comfy.pid")
  fi
  waited=0
  until comfy_answers; do
    pid=$(cat "$STATE/comfy.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      fail "ComfyUI exited: $(tail -n 1 "$STATE/comfy.log" 2>/dev/null)" comfy 1
    fi
    [ "$waited" -ge "$WAIT" ] && fail "ComfyUI did not answer within $WAIT s" comfy 1
    nap 1
    waited=$((waited + 1))
  done
}

run_setup() { setup_steps; }

stop_comfy() {
  if has_supervised_comfy; then
    supervisorctl stop comfyui >>"$OUT" 2>&1
  fi
  pid=$(cat "$STATE/comfy.pid" 2>/dev/null || true)
  if [ -n "$pid" ]; then
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null
    waited=0
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 20 ]; do nap 0.5; waited=$((waited + 1)); done
    rm -f "$STATE/comfy.pid"
  fi
  return 0
}

run_reset() {
  [ -n "$VENV" ] || VENV="$DIR/venv"
  STEP_BASE=1 STEPS=7
  say "{\"step\":1,\"of\":7,\"name\":\"Removing ComfyUI and its environment\"}"
  stop_comfy
  rm -rf "$VENV" "$DIR.clone"
  if [ "$KEEP_MODELS" = 1 ] && [ -d "$DIR" ]; then
    for entry in "$DIR"/* "$DIR"/.[!.]* "$DIR"/..?*; do
      [ -e "$entry" ] || continue
      [ "$entry" = "$DIR/models" ] || rm -rf "$entry"
    done
  else
    rm -rf "$DIR"
  fi
  setup_steps
}

# --- listings -------------------------------------------------------------------------------------------------------

# One line per file under the models folder: its folder, its name below that folder, its size, and whether it is a
# partial download.
list_files() {
  root=$1
  shift
  for path in "$@"; do
    rel=${path#"$root"/}
    folder=${rel%%/*}
    [ "$folder" = "$rel" ] && continue
    name=${rel#*/}
    partial=false
    case $name in *.part) partial=true name=${name%.part} ;; esac
    say "{\"folder\":\"$(json_str "$folder")\",\"name\":\"$(json_str "$name")\",\"bytes\":$(size_of "$path"),\"partial\":$partial}"
  done
}

run_models() {
  [ -n "$MODELS" ] || usage "models needs --models"
  [ -d "$MODELS" ] && find "$MODELS" -type f -exec sh "$SELF" __list "$MODELS" {} +
  say '{"done":true,"rc":0}'
}

run_status() {
  for dir in "$JOBS"/*; do
    [ -d "$dir" ] || continue
    rc=$(cat "$dir/rc" 2>/dev/null || true)
    state=running
    [ -n "$rc" ] && state='done'
    [ -d "$dir/lost" ] && state=lost
    [ -n "$rc" ] || rc=null
    pid=$(cat "$dir/pid" 2>/dev/null || true)
    if [ "$state" = running ] && [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && [ ! -f "$dir/rc" ]; then state=lost; fi
    say "{\"job\":\"$(basename "$dir")\",\"kind\":\"$(cat "$dir/kind" 2>/dev/null)\",\"state\":\"$state\",\"rc\":$rc,\"size\":$(size_of "$dir/log")}"
  done
  if comfy_answers; then say '{"comfy":true}'; else say '{"comfy":false}'; fi
  say '{"done":true,"rc":0}'
}

# --- cancel ---------------------------------------------------------------------------------------------------------

# Stops a running job: its whole process group (the worker and its curl), then records it as cancelled in its log
# (so followers end) and removes the download's partial file when --models, --folder and --name are given. A job that
# is already over is left as it is. Prints the job's final done line.
run_cancel() {
  [ -n "$JOB_ID" ] || usage "--job is required"
  dir="$JOBS/$JOB_ID"
  [ -d "$dir" ] || fail "no such job" missing 3
  if [ ! -f "$dir/rc" ] && mkdir "$dir/cancelling" 2>/dev/null; then
    pid=$(cat "$dir/pid" 2>/dev/null || true)
    if [ -n "$pid" ]; then
      # The worker leads its own process group (setsid): the group takes curl with it.
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
      waited=0
      while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 20 ]; do nap 0.5; waited=$((waited + 1)); done
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    if [ ! -f "$dir/rc" ]; then
      say '{"error":"cancelled","reason":"cancelled"}' >>"$dir/log"
      say '{"done":true,"rc":130}' >>"$dir/log"
      echo 130 >"$dir/rc.tmp" && mv -f "$dir/rc.tmp" "$dir/rc"
      if [ -n "$MODELS" ] && [ -n "$FOLDER" ] && [ -n "$NAME" ]; then rm -f "$MODELS/$FOLDER/$NAME.part"; fi
    fi
  fi
  say "{\"done\":true,\"rc\":$(cat "$dir/rc" 2>/dev/null || echo 255)}"
}

# --- entry ----------------------------------------------------------------------------------------------------------

[ "$#" -ge 1 ] || usage "missing subcommand"
command=$1
shift
case $command in
  setup) parse "$@"; required "$DIR" "$REPO"; start_job setup "$@" ;;
  reset) parse "$@"; required "$DIR" "$REPO"; start_job reset "$@" ;;
  download) parse "$@"; required "$MODELS" "$FOLDER" "$NAME" "$URL"; start_job download "$@" ;;
  tail)
    parse "$@"
    [ -n "$JOB_ID" ] || usage "--job is required"
    [ -d "$JOBS/$JOB_ID" ] || fail "no such job" missing 3
    follow "$JOBS/$JOB_ID" "$OFFSET" ;;
  models) parse "$@"; run_models ;;
  status) parse "$@"; run_status ;;
  cancel) parse "$@"; run_cancel ;;
  __worker) worker "$@" ;;
  __list) list_files "$@" ;;
  *) usage "unknown subcommand" ;;
esac
