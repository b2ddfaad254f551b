#!/usr/bin/env bash
# Capture real Docker Engine API responses, for every API version 1.24 … 1.41, as test
# fixtures in tests/fixtures/engine/v1.XX/<OperationId>.<ext>.
#
#   tests/engine/capture-fixtures.sh
#
# Starts a private engine with engine.sh (or, when DOCKER_HOST is a unix:// socket, uses
# that engine), creates a few objects with fixed names, fetches each endpoint with curl
# under the /v1.XX/ prefix, checks every body is JSON or JSON lines, and writes the bodies
# byte for byte as the engine sent them: they are evidence, not examples.
# Also writes tests/fixtures/engine/README.md. Removes everything it created at the end.
# Output goes to $FIXTURES_DIR when set; the private engine lives in $FIXTURE_ENGINE_DIR
# (default /tmp/docker-api-fixtures, wiped before and after).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${FIXTURES_DIR:-$repo/tests/fixtures/engine}
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}
export DOCKER_CLI
MIN_MINOR=24 MAX_MINOR=41
# Endpoints newer than 1.24 (the only one among those captured): skipped below that version.
declare -A SINCE=([SystemDataUsage]=25)
# The one API version used to set things up; every engine that serves 1.24–1.41 has it.
SETUP_V=1.41

log() { printf 'capture: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in curl jq; do
    command -v "$tool" >/dev/null || die "$tool is required"
done

work=$(mktemp -d /tmp/fixtures.XXXXXX)
stage=$work/out
engine_dir=
created=

# rm -rf must never run into a mount left under a directory (a data root, a bind).
mounted_under() { grep -qs " $1/" /proc/self/mountinfo; }

cleanup() {
    local rc=$?
    set +e
    if [ -n "$created" ]; then
        remove_objects
    fi
    if [ -n "$engine_dir" ]; then
        "$here/engine.sh" stop "$engine_dir" || rc=1
        if mounted_under "$engine_dir"; then log "left $engine_dir (still mounted)"; else rm -rf "$engine_dir"; fi
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
# set -e alone would stop without a word.
trap 'log "failed (status $?) at line $LINENO: $BASH_COMMAND"' ERR

if [[ "${DOCKER_HOST:-}" == unix://* ]]; then
    log "using the engine at $DOCKER_HOST"
    "$here/engine.sh" ensure-image
else
    # A fixed, short path: the engine writes its own paths into bodies (DockerRootDir,
    # Mountpoint, LogPath…), so a fixed one keeps re-captures comparable; short because unix
    # socket paths are limited to 107 bytes. Start from nothing, whatever a killed run left.
    engine_dir=${FIXTURE_ENGINE_DIR:-/tmp/docker-api-fixtures}
    if [ -n "$(ls -A "$engine_dir" 2>/dev/null)" ] && [ ! -e "$engine_dir/daemon.json" ]; then
        engine_dir= # not ours: neither stop nor remove it
        die "${FIXTURE_ENGINE_DIR:-/tmp/docker-api-fixtures} is not empty and holds no engine; refusing to wipe it"
    fi
    "$here/engine.sh" stop "$engine_dir"
    ! mounted_under "$engine_dir" || die "$engine_dir still has mounts"
    rm -rf "$engine_dir"
    env_line=$("$here/engine.sh" start "$engine_dir")
    eval "$env_line"
fi
sock=${DOCKER_HOST#unix://}
docker() { "$DOCKER_CLI" "$@"; }

# --- helpers ------------------------------------------------------------------------------

url() { printf 'http://localhost/v%s%s' "$1" "$2"; }

# POST with a JSON body during setup; prints the response body.
post() { # path json
    curl -sS --fail-with-body --max-time 30 --unix-socket "$sock" \
        -H 'Content-Type: application/json' -d "$2" "$(url "$SETUP_V" "$1")"
}

get_json() { # path (at the setup version) → body
    curl -sS --fail-with-body --max-time 30 --unix-socket "$sock" "$(url "$SETUP_V" "$1")"
}

# One GET, body written exactly as received; anything but 200 is fatal.
fetch() { # file version path [max-time]
    local code
    code=$(curl -sS --max-time "${4:-30}" --unix-socket "$sock" -o "$1" -w '%{http_code}' "$(url "$2" "$3")") ||
        die "GET /v$2$3 failed (curl $?)"
    [ "$code" = 200 ] || die "GET /v$2$3 answered $code: $(head -c 300 "$1")"
}

# The body must be one JSON document (.json), newline-terminated JSON objects (.jsonl), or OK.
validate() { # file
    local f=$1 n lines
    case "$f" in
    *.json)
        n=$(jq -n '[inputs] | length' "$f" 2>/dev/null) || die "$f: not valid JSON"
        [ "$n" = 1 ] || die "$f: $n JSON documents, expected 1"
        ;;
    *.jsonl)
        [ -s "$f" ] || die "$f: empty"
        [ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ] || die "$f: last line not terminated"
        lines=$(wc -l <"$f")
        n=$(jq -n '[inputs | select(type == "object")] | length' "$f" 2>/dev/null) || die "$f: a line is not valid JSON"
        [ "$n" = "$lines" ] || die "$f: $lines lines but $n JSON objects"
        ;;
    *.txt)
        [ "$(cat "$f")" = OK ] || die "$f: expected OK"
        ;;
    esac
}

# Absent objects are fine: this runs before creating them and again at the end.
remove_objects() {
    docker rm -f fixture-running fixture-exited >/dev/null 2>&1 || true
    docker volume rm -f fixture-volume >/dev/null 2>&1 || true
    docker network rm fixture-net >/dev/null 2>&1 || true
}

inspect_is() { # object go-template expected
    [ "$(docker inspect -f "$2" "$1" 2>/dev/null)" = "$3" ]
}

exec_finished() { # exec id
    [ "$(get_json "/exec/$1/json" | jq -r .Running)" = false ]
}

wait_until() { # seconds description command...
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@"; do
        ((SECONDS < deadline)) || die "timed out waiting for $what"
        sleep 0.2
    done
}

# --- objects ------------------------------------------------------------------------------

# Leftovers of an interrupted run on an external engine would make the creates below fail.
remove_objects
created=1

# The events window starts after engine start-up and the image import, so it holds only what
# this script does: the second boundary is exclusive of everything before the sleep.
sleep 1
since=$(date +%s)

docker volume create --label org.example.fixture=volume --label org.example.empty= fixture-volume >/dev/null

# No bridge (the engine runs with --bridge=none and no iptables), but a user-defined bridge
# network can still be created; it is never attached to a container. Fall back to the built-in
# `none` network where even that fails.
network=fixture-net
if ! docker network create --internal --label org.example.fixture=network fixture-net >/dev/null 2>"$work/net.err"; then
    log "network create failed ($(cat "$work/net.err")); inspecting the built-in none network"
    network=none
fi

docker create --name fixture-exited --network none --label org.example.fixture=exited \
    busybox:test sh -c 'echo bye; exit 3' >/dev/null
docker start fixture-exited >/dev/null
wait_until 20 "fixture-exited to exit" inspect_is fixture-exited '{{.State.Status}}' exited

# Inspect should show as much as is cheap: labels (one empty), env, a named volume, a tmpfs,
# a health check, a working dir, and a file change for /changes.
docker run -d --name fixture-running --network none --hostname fixture \
    --label org.example.fixture=running --label org.example.empty= \
    -e FIXTURE_ENV=1 -e FIXTURE_EMPTY= \
    -v fixture-volume:/data --tmpfs /scratch:size=1m \
    --workdir /data --stop-timeout 1 \
    --health-cmd true --health-interval 2s --health-timeout 2s --health-retries 3 \
    busybox:test sh -c 'echo changed >/fixture-change && exec sleep 3600' >/dev/null
wait_until 30 "fixture-running to be healthy" inspect_is fixture-running '{{.State.Health.Status}}' healthy

# An exec that ran to completion (detached, so no hijacked connection is needed).
exec_id=$(post /containers/fixture-running/exec \
    '{"Cmd":["sh","-c","echo exec-out; exit 7"],"AttachStdout":true,"AttachStderr":true,"Env":["EXEC_ENV=1"],"WorkingDir":"/"}' |
    jq -r .Id)
post "/exec/$exec_id/start" '{"Detach":true,"Tty":false}' >/dev/null
wait_until 20 "the exec to finish" exec_finished "$exec_id"

sleep 1
until=$(date +%s)

engine_version=$(get_json /version | jq -r '"\(.Version) (API \(.ApiVersion), min \(.MinAPIVersion // "?"), git \(.GitCommit), \(.Os)/\(.Arch), kernel \(.KernelVersion))"')
components=$(get_json /version | jq -r '[.Components[]? | "\(.Name) \(.Version)"] | join(", ")')
log "engine $engine_version"

# --- capture ------------------------------------------------------------------------------

# operation file → path (ContainerStatsStream and SystemEvents are handled apart: streams)
captures=(
    "SystemPing.txt /_ping"
    "SystemVersion.json /version"
    "SystemInfo.json /info"
    "SystemDataUsage.json /system/df"
    "ContainerList.json /containers/json?all=1"
    "ContainerInspect.json /containers/fixture-running/json"
    "ContainerTop.json /containers/fixture-running/top"
    "ContainerChanges.json /containers/fixture-running/changes"
    "ContainerStats.json /containers/fixture-running/stats?stream=false"
    "ImageList.json /images/json"
    "ImageInspect.json /images/busybox:test/json"
    "ImageHistory.json /images/busybox:test/history"
    "NetworkList.json /networks"
    "NetworkInspect.json /networks/$network"
    "VolumeList.json /volumes"
    "VolumeInspect.json /volumes/fixture-volume"
    "ExecInspect.json /exec/$exec_id/json"
)
skipped=()

for ((minor = MIN_MINOR; minor <= MAX_MINOR; minor++)); do
    v=1.$minor
    dir=$stage/v$v
    mkdir -p "$dir"
    for entry in "${captures[@]}"; do
        file=${entry%% *} path=${entry#* }
        op=${file%.*}
        if ((minor < ${SINCE[$op]:-0})); then
            # Record what the engine does with it anyway: 20.10 does not gate most routes.
            code=$(curl -s --max-time 30 --unix-socket "$sock" -o /dev/null -w '%{http_code}' "$(url "$v" "$path")") || code="curl error"
            skipped+=("| v$v | $file | \`GET $path\` is not in API $v (added in 1.${SINCE[$op]}); the engine answered HTTP $code anyway |")
            continue
        fi
        fetch "$dir/$file" "$v" "$path"
        validate "$dir/$file"
    done

    # A stats stream never ends on its own: keep the first 3 lines, with a hard time bound.
    # curl is cut off by head (exit 23) or the bound, so its status says nothing; the line
    # count and validation below do.
    curl -sSN --fail --max-time 20 --unix-socket "$sock" \
        "$(url "$v" /containers/fixture-running/stats?stream=true)" 2>/dev/null |
        head -n 3 >"$dir/ContainerStatsStream.jsonl" || true
    [ "$(wc -l <"$dir/ContainerStatsStream.jsonl")" = 3 ] || die "v$v: stats stream did not give 3 lines in 20 s"
    validate "$dir/ContainerStatsStream.jsonl"

    # A window wholly in the past: the engine sends the buffered events and closes.
    fetch "$dir/SystemEvents.jsonl" "$v" "/events?since=$since&until=$until" 20
    validate "$dir/SystemEvents.jsonl"
    log "v$v: $(find "$dir" -type f | wc -l) files"
done

# --- publish ------------------------------------------------------------------------------

mkdir -p "$out"
rm -rf "$out"/v1.*
mv "$stage"/v1.* "$out"/

files_per_version=$(for d in "$out"/v1.*; do printf '%s %s\n' "${d##*/}" "$(find "$d" -type f | wc -l)"; done |
    awk '{c[$2] = c[$2] ? c[$2] ", " $1 : $1} END {for (n in c) printf "- %s files: %s\n", n, c[n]}' | sort)
total=$(find "$out"/v1.* -type f -printf '%s\n' | awk '{t += $1} END {print t}')

{
    cat <<EOF
# Engine fixtures

Raw response bodies of a real Docker Engine, one directory per API version, fetched
under the \`/v1.XX/\` path prefix. Each file holds exactly the bytes the engine sent
(no pretty-printing, no trailing newline added): they are evidence of what the engine
does, to test the generated models and clients against. Generated by
\`tests/engine/capture-fixtures.sh\`; do not edit by hand.

- Engine: $engine_version
- Components: ${components:-none reported}
- Captured: $(date -u +%Y-%m-%d) (UTC)
- Re-capture (as root on Debian 12; installs docker.io and busybox-static when missing):
  \`tests/engine/capture-fixtures.sh\`, or with \`DOCKER_HOST=unix://…\` set, against
  that engine instead of a private one.

## What is in each file

| file | request |
|---|---|
EOF
    for entry in "${captures[@]}"; do
        # shellcheck disable=SC2016 # the backquotes are Markdown
        printf '| %s | `GET /v1.XX%s` |\n' "${entry%% *}" "${entry#* }"
    done | sed -e "s#/exec/$exec_id/#/exec/{id}/#"
    cat <<EOF
| ContainerStatsStream.jsonl | \`GET /v1.XX/containers/fixture-running/stats?stream=true\`, first 3 lines |
| SystemEvents.jsonl | \`GET /v1.XX/events?since=…&until=…\`, a window that covers creating the objects below |

$files_per_version

Total size of the bodies: $total bytes.

## The objects

The engine is private (\`tests/engine/engine.sh\`: vfs storage, no bridge, no iptables), so
every container runs with \`--network none\`. The only image, \`busybox:test\`, is imported
from Debian's busybox-static (no registry is reachable).

- \`fixture-running\`: started and healthy; labels (one empty), env (one empty), the named
  volume at /data, a tmpfs at /scratch, working dir /data, stop timeout 1, a health check
  every 2 s; it wrote /fixture-change, so /changes is not empty.
- \`fixture-exited\`: ran \`exit 3\`.
- \`fixture-volume\`: a local volume with labels.
- \`$network\`: the network inspected$( [ "$network" = fixture-net ] && printf ' (an internal user-defined bridge network with a label, attached to nothing)' || printf ' (the built-in one: creating a user network failed)').
- An exec on \`fixture-running\`: \`sh -c 'echo exec-out; exit 7'\`, started detached, inspected
  after it finished (ExitCode 7).

IDs, timestamps, sizes, PIDs and health-check logs differ from one capture to the next.
The same objects are captured at every version, one version after the other, so bodies of
two versions differ also where time passed (stats, uptime, health log). The events window
is the same for all versions.

## Skipped

EOF
    if ((${#skipped[@]})); then
        printf '| version | file | why |\n|---|---|---|\n'
        printf '%s\n' "${skipped[@]}"
    else
        echo "Nothing."
    fi

    cat <<'EOF'

## null where a value could be (v1.41)

Paths (`[]` = any array element) whose value is `null` in the v1.41 bodies; models must
accept `null` there whatever the spec says.

EOF
    for f in "$out"/v1.41/*.json; do
        jq -r '[paths(. == null) | map(if type == "number" then "[]" else tostring end) | join(".")]
               | unique | select(length > 0)
               | "- \(input_filename | split("/")[-1]): \(map("`" + . + "`") | join(", "))"' "$f"
    done
    cat <<'EOF'

## Seen in this capture

- The order of the entries of NetworkList and ContainerChanges changes from one request to
  the next (the engine iterates a Go map); compare them as sets.
- Below 1.28, NetworkList includes each network's `Containers`; below 1.25, SystemInfo has
  `ExecutionDriver` and `SecurityOptions` as bare names (`seccomp`, not
  `name=seccomp,profile=default`). Otherwise the bodies have the same fields at every version.
- IPAM `Options` is `null` in NetworkList but `{}` in NetworkInspect for the same network.
- Starting a container that mounts an existing named volume emits a second volume `create`
  event for it. A health check appears as container events `exec_create: /bin/sh -c true`,
  `exec_start: /bin/sh -c true`, `exec_die`, then `health_status: healthy`: the Action
  carries the command.
- Container events carry the old `status`, `id`, `from` fields next to `Type`, `Action`,
  `Actor`; network and volume events do not.
EOF
} >"$out/README.md"

log "wrote $(find "$out" -type f -name '*.json*' | wc -l) fixtures ($total bytes) and README.md to $out"
