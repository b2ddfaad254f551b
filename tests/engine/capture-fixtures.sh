#!/usr/bin/env bash
# Capture real Docker Engine API answers, at every API version the engine serves from 1.24
# on, as test fixtures in tests/fixtures/engine/<ENGINE>/v1.XX/<file>.
#
#   tests/engine/capture-fixtures.sh [ENGINE...]     (default: 20.10 28.5.2)
#
# For each engine: starts a private one with engine.sh (or, when DOCKER_HOST is a unix://
# socket and one ENGINE is named, uses that engine), creates a few objects with fixed
# names, sends each request with curl under the /v1.XX/ prefix, checks the status and that
# every body is JSON or JSON lines, and writes the bodies byte for byte as the engine sent
# them: they are evidence, not examples. Also writes the engine's README.md beside them.
# Removes everything it created at the end.
#
# A file is named <OperationId>[.<case>][.<status>].<ext>: no status means 200, a case tells
# two answers of one operation apart (ContainerWait.failed-start.json). Output goes to
# $FIXTURES_DIR/<ENGINE> when FIXTURES_DIR is set; a private engine lives in
# $FIXTURE_ENGINE_DIR/<ENGINE> (default /tmp/docker-api-fixtures/<ENGINE>, wiped before and after).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
fixtures=${FIXTURES_DIR:-$repo/tests/fixtures/engine}
# The 20.10 client serves both engines (28.5.2 accepts its API 1.41) and comes with docker.io.
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}
export DOCKER_CLI
# The oldest version the project generates; engines that serve older ones are not asked.
MIN_MINOR=24
# Operations newer than 1.24 among those captured: skipped below that version.
declare -A SINCE=([SystemDataUsage]=25)

log() { printf 'capture: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in curl jq; do
    command -v "$tool" >/dev/null || die "$tool is required"
done

engines=("$@")
((${#engines[@]})) || engines=(20.10 28.5.2)
external=
if [[ "${DOCKER_HOST:-}" == unix://* ]]; then
    ((${#engines[@]} == 1)) || die "with DOCKER_HOST set, name the one engine it is (20.10 or 28.5.2)"
    external=$DOCKER_HOST
fi

work=$(mktemp -d /tmp/fixtures.XXXXXX)
engine_dir=
created=

# rm -rf must never run into a mount left under a directory (a data root, a bind).
mounted_under() { grep -qs " $1/" /proc/self/mountinfo; }

stop_private_engine() {
    [ -n "$engine_dir" ] || return 0
    "$here/engine.sh" stop "$engine_dir" || return 1
    if mounted_under "$engine_dir"; then log "left $engine_dir (still mounted)"; else rm -rf "$engine_dir"; fi
    engine_dir=
}

cleanup() {
    local rc=$?
    set +e
    if [ -n "$created" ]; then
        remove_objects
    fi
    stop_private_engine || rc=1
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
# set -e alone would stop without a word.
trap 'log "failed (status $?) at line $LINENO: $BASH_COMMAND"' ERR

docker() { "$DOCKER_CLI" "$@"; }

# --- helpers ------------------------------------------------------------------------------

url() { printf 'http://localhost/v%s%s' "$1" "$2"; }

# A request during setup, at the newest version both engines serve; prints the body.
SETUP_V=1.41
post() { # path json
    curl -sS --fail-with-body --max-time 30 --unix-socket "$sock" \
        -H 'Content-Type: application/json' -d "$2" "$(url "$SETUP_V" "$1")"
}

get_json() { # path (at the setup version) → body
    curl -sS --fail-with-body --max-time 30 --unix-socket "$sock" "$(url "$SETUP_V" "$1")"
}

# One request, its body written exactly as received; any status but the expected one is fatal.
fetch() { # file status version method path [json-body] [max-time]
    local file=$1 want=$2 v=$3 method=$4 path=$5 body=${6:-} code
    local -a data=()
    [ -z "$body" ] || data=(-H 'Content-Type: application/json' -d "$body")
    code=$(curl -sS --max-time "${7:-30}" --unix-socket "$sock" -X "$method" "${data[@]}" -o "$file" -w '%{http_code}' \
        "$(url "$v" "$path")") || die "$method /v$v$path failed (curl $?)"
    [ "$code" = "$want" ] || die "$method /v$v$path answered $code, expected $want: $(head -c 300 "$file")"
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
    local c
    for c in fixture-running fixture-exited fixture-failed $(docker ps -aq --filter label=org.example.fixture=create 2>/dev/null); do
        docker rm -f "$c" >/dev/null 2>&1 || true
    done
    docker volume rm -f fixture-volume $(docker volume ls -q --filter label=org.example.fixture=create 2>/dev/null) >/dev/null 2>&1 || true
    docker network rm fixture-net $(docker network ls -q --filter label=org.example.fixture=create 2>/dev/null) >/dev/null 2>&1 || true
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

# --- what is captured ---------------------------------------------------------------------

# file, status, method, path and body of every single answer; {v} is the version being
# captured (objects created per version are named by it), {exec} the exec's id. Streams
# (stats, events) are captured apart.
REQUESTS=(
    "SystemPing.txt|200|GET|/_ping|"
    "SystemVersion.json|200|GET|/version|"
    "SystemInfo.json|200|GET|/info|"
    "SystemDataUsage.json|200|GET|/system/df|"
    "ContainerList.json|200|GET|/containers/json?all=1|"
    "ContainerList.400.json|400|GET|/containers/json?filters=%7B%22no-such-filter%22%3A%5B%22x%22%5D%7D|"
    "ContainerInspect.json|200|GET|/containers/fixture-running/json|"
    "ContainerInspect.failed-start.json|200|GET|/containers/fixture-failed/json|"
    "ContainerInspect.404.json|404|GET|/containers/no-such-container/json|"
    "ContainerTop.json|200|GET|/containers/fixture-running/top|"
    "ContainerTop.409.json|409|GET|/containers/fixture-exited/top|"
    "ContainerChanges.json|200|GET|/containers/fixture-running/changes|"
    "ContainerChanges.unchanged.json|200|GET|/containers/fixture-failed/changes|"
    "ContainerStats.json|200|GET|/containers/fixture-running/stats?stream=false|"
    "ContainerWait.json|200|POST|/containers/fixture-exited/wait|"
    "ContainerWait.failed-start.json|200|POST|/containers/fixture-failed/wait|"
    "ContainerCreate.201.json|201|POST|/containers/create?name=fixture-create-{v}|{\"Image\":\"busybox:test\",\"Cmd\":[\"true\"],\"Labels\":{\"org.example.fixture\":\"create\"},\"HostConfig\":{\"NetworkMode\":\"none\"}}"
    "ContainerCreate.409.json|409|POST|/containers/create?name=fixture-running|{\"Image\":\"busybox:test\"}"
    "ContainerDelete.409.json|409|DELETE|/containers/fixture-running|"
    "ContainerExec.201.json|201|POST|/containers/fixture-running/exec|{\"Cmd\":[\"true\"],\"AttachStdout\":true}"
    "ExecInspect.json|200|GET|/exec/{exec}/json|"
    "ImageList.json|200|GET|/images/json|"
    "ImageInspect.json|200|GET|/images/busybox:test/json|"
    "ImageHistory.json|200|GET|/images/busybox:test/history|"
    "NetworkList.json|200|GET|/networks|"
    "NetworkInspect.json|200|GET|/networks/{network}|"
    "NetworkCreate.201.json|201|POST|/networks/create|{\"Name\":\"fixture-create-{v}\",\"Internal\":true,\"Labels\":{\"org.example.fixture\":\"create\"}}"
    "VolumeList.json|200|GET|/volumes|"
    "VolumeInspect.json|200|GET|/volumes/fixture-volume|"
    "VolumeCreate.201.json|201|POST|/volumes/create|{\"Name\":\"fixture-create-{v}\",\"Labels\":{\"org.example.fixture\":\"create\"}}"
)

# --- one engine ---------------------------------------------------------------------------

capture() { # engine
    local engine=$1 out=$fixtures/$1 stage=$work/$1 since until exec_id network
    local engine_version components min max minor v dir entry file status method path body op
    local -a skipped=()
    mkdir -p "$stage"
    if [ -n "$external" ]; then
        DOCKER_HOST=$external
        log "using the engine at $DOCKER_HOST as Engine $engine"
        "$here/engine.sh" ensure-image
    else
        # A fixed, short path: the engine writes its own paths into bodies (DockerRootDir,
        # Mountpoint, LogPath…), so a fixed one keeps re-captures comparable; short because
        # unix socket paths are limited to 107 bytes. Start from nothing, whatever a killed
        # run left.
        engine_dir=${FIXTURE_ENGINE_DIR:-/tmp/docker-api-fixtures}/$engine
        if [ -n "$(ls -A "$engine_dir" 2>/dev/null)" ] && [ ! -e "$engine_dir/daemon.json" ]; then
            local refused=$engine_dir
            engine_dir= # not ours: neither stop nor remove it
            die "$refused is not empty and holds no engine; refusing to wipe it"
        fi
        "$here/engine.sh" stop "$engine_dir"
        ! mounted_under "$engine_dir" || die "$engine_dir still has mounts"
        rm -rf "$engine_dir"
        eval "$("$here/engine.sh" start "$engine_dir" "$engine")"
    fi
    export DOCKER_HOST
    sock=${DOCKER_HOST#unix://}
    [[ "$(get_json /version | jq -r .Version)" == "$engine"* ]] || die "the engine at $DOCKER_HOST is not Engine $engine"

    # Leftovers of an interrupted run on an external engine would make the creates below fail.
    remove_objects
    created=1

    # The events window starts after engine start-up and the image import, so it holds only
    # what this function does: the second boundary excludes everything before the sleep.
    sleep 1
    since=$(date +%s)

    docker volume create --label org.example.fixture=volume --label org.example.empty= fixture-volume >/dev/null

    # No bridge (the engine runs with --bridge=none and no iptables), but a user-defined
    # bridge network can still be created; it is never attached to a container. Fall back to
    # the built-in `none` network where even that fails.
    network=fixture-net
    if ! docker network create --internal --label org.example.fixture=network fixture-net >/dev/null 2>"$work/net.err"; then
        log "network create failed ($(cat "$work/net.err")); inspecting the built-in none network"
        network=none
    fi

    docker create --name fixture-exited --network none --label org.example.fixture=exited \
        busybox:test sh -c 'echo bye; exit 3' >/dev/null
    docker start fixture-exited >/dev/null
    wait_until 20 "fixture-exited to exit" inspect_is fixture-exited '{{.State.Status}}' exited

    # A command that does not exist: the start fails, the container stays `created`.
    docker create --name fixture-failed --network none --label org.example.fixture=failed busybox:test no-such-binary >/dev/null
    ! docker start fixture-failed >/dev/null 2>&1 || die "fixture-failed started"

    # Inspect should show as much as is cheap: labels (one empty), env, a named volume, a
    # tmpfs, a health check, a working dir, and a file change for /changes.
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
    min=$(get_json /version | jq -r '.MinAPIVersion | split(".")[1] | tonumber')
    max=$(get_json /version | jq -r '.ApiVersion | split(".")[1] | tonumber')
    ((min >= MIN_MINOR)) || min=$MIN_MINOR
    log "Engine $engine_version: capturing 1.$min-1.$max"

    # The events first: the engine keeps only its last 256 events, and the health check and
    # the creates below add more every second. A window wholly in the past: the engine sends
    # the buffered events and closes.
    for ((minor = min; minor <= max; minor++)); do
        v=1.$minor
        mkdir -p "$stage/v$v"
        fetch "$stage/v$v/SystemEvents.jsonl" 200 "$v" GET "/events?since=$since&until=$until" "" 20
        validate "$stage/v$v/SystemEvents.jsonl"
    done

    for ((minor = min; minor <= max; minor++)); do
        v=1.$minor
        dir=$stage/v$v
        for entry in "${REQUESTS[@]}"; do
            IFS='|' read -r file status method path body <<<"$entry"
            path=${path//\{exec\}/$exec_id} path=${path//\{network\}/$network} path=${path//\{v\}/$v}
            body=${body//\{v\}/$v}
            op=${file%%.*}
            if ((minor < ${SINCE[$op]:-0})); then
                # Record what the engine does with it anyway: engines do not gate most routes.
                code=$(curl -s --max-time 30 --unix-socket "$sock" -X "$method" -o /dev/null -w '%{http_code}' "$(url "$v" "$path")") ||
                    code="curl error"
                skipped+=("| v$v | $file | \`$method $path\` is not in API $v (added in 1.${SINCE[$op]}); the engine answered HTTP $code anyway |")
                continue
            fi
            fetch "$dir/$file" "$status" "$v" "$method" "$path" "$body"
            validate "$dir/$file"
        done
        # The objects created at this version go again, so the next version can create its own.
        docker rm -f "fixture-create-$v" >/dev/null
        docker volume rm "fixture-create-$v" >/dev/null
        docker network rm "fixture-create-$v" >/dev/null

        # A stats stream never ends on its own: keep the first 3 lines, with a hard time
        # bound. curl is cut off by head (exit 23) or the bound, so its status says nothing;
        # the line count and validation below do.
        curl -sSN --fail --max-time 20 --unix-socket "$sock" \
            "$(url "$v" /containers/fixture-running/stats?stream=true)" 2>/dev/null |
            head -n 3 >"$dir/ContainerStats.stream.jsonl" || true
        [ "$(wc -l <"$dir/ContainerStats.stream.jsonl")" = 3 ] || die "v$v: stats stream did not give 3 lines in 20 s"
        validate "$dir/ContainerStats.stream.jsonl"

        log "$engine v$v: $(find "$dir" -type f | wc -l) files"
    done

    remove_objects
    created=
    stop_private_engine

    # --- publish --------------------------------------------------------------------------

    mkdir -p "$out"
    rm -rf "$out"/v1.*
    mv "$stage"/v1.* "$out"/
    write_readme "$engine" "$out" "$engine_version" "$components" "$network" "$exec_id" "$max" "${skipped[@]}"
    log "wrote $(find "$out" -type f -name '*.json*' | wc -l) fixtures and README.md to $out"
}

write_readme() { # engine out version components network exec_id newest-minor skipped...
    local engine=$1 out=$2 engine_version=$3 components=$4 network=$5 exec_id=$6 newest=v1.$7 files_per_version total entry f
    shift 7
    files_per_version=$(for d in "$out"/v1.*; do printf '%s %s\n' "${d##*/}" "$(find "$d" -type f | wc -l)"; done |
        awk '{c[$2] = c[$2] ? c[$2] ", " $1 : $1} END {for (n in c) printf "- %s files: %s\n", n, c[n]}' | sort)
    total=$(find "$out"/v1.* -type f -printf '%s\n' | awk '{t += $1} END {print t}')
    {
        cat <<EOF
# Engine $engine fixtures

Raw answers of a real Docker Engine $engine, one directory per API version, to requests
sent under the \`/v1.XX/\` path prefix. Each file holds exactly the bytes the engine sent
(no pretty-printing, no trailing newline added): they are evidence of what the engine
does, to test the generated models and clients against. Generated by
\`tests/engine/capture-fixtures.sh $engine\`; do not edit by hand.

- Engine: $engine_version
- Components: ${components:-none reported}
- Captured: $(date -u +%Y-%m-%d) (UTC)
- Re-capture (as root on Debian 12; engine.sh installs docker.io and busybox-static when
  missing, and fetches 28.5.2): \`tests/engine/capture-fixtures.sh $engine\`, or with
  \`DOCKER_HOST=unix://…\` set, against that engine instead of a private one.

## What is in each file

A file is named \`<OperationId>[.<case>][.<status>].<ext>\`; without a status the engine
answered 200.

| file | status | request |
|---|---|---|
EOF
        for entry in "${REQUESTS[@]}"; do
            IFS='|' read -r file status method path body <<<"$entry"
            path=${path//\{network\}/$network}
            # shellcheck disable=SC2016 # the backquotes are Markdown
            printf '| %s | %s | `%s /v1.XX%s`%s |\n' "$file" "$status" "$method" "$path" "${body:+ with \`$body\`}"
        done | sed -e 's#{v}#1.XX#g' -e 's#{exec}#{id}#g'
        cat <<EOF
| ContainerStats.stream.jsonl | 200 | \`GET /v1.XX/containers/fixture-running/stats?stream=true\`, first 3 lines |
| SystemEvents.jsonl | 200 | \`GET /v1.XX/events?since=…&until=…\`, a window that covers creating the objects below |

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
- \`fixture-failed\`: its command, \`no-such-binary\`, does not exist, so its start failed
  (400): it is \`created\`, with exit code 127 and the runtime's error, and unchanged.
- \`fixture-volume\`: a local volume with labels.
- \`$network\`: the network inspected$([ "$network" = fixture-net ] && printf ' (an internal user-defined bridge network with a label, attached to nothing)' || printf ' (the built-in one: creating a user network failed)').
- An exec on \`fixture-running\`: \`sh -c 'echo exec-out; exit 7'\`, started detached, inspected
  after it finished (ExitCode 7).
- At each version, a container, a volume and a network named \`fixture-create-1.XX\` are
  created for the create answers, and removed before the next version.

IDs, timestamps, sizes, PIDs and health-check logs differ from one capture to the next.
The same objects are captured at every version, one version after the other, so bodies of
two versions differ also where time passed (stats, uptime, health log). The events window
is the same for all versions.

## Skipped

EOF
        if (($#)); then
            printf '| version | file | why |\n|---|---|---|\n'
            printf '%s\n' "$@"
        else
            echo "Nothing."
        fi

        cat <<EOF

## null where a value could be ($newest)

Paths (\`[]\` = any array element) whose value is \`null\` in the $newest bodies; models must
accept \`null\` there whatever the spec says.

EOF
        for f in "$out/$newest"/*.json; do
            jq -r '[paths(. == null) | map(if type == "number" then "[]" else tostring end) | join(".")]
                   | unique | select(length > 0)
                   | "- \(input_filename | split("/")[-1]): \(map("`" + . + "`") | join(", "))"' "$f"
            jq -e '. == null' "$f" >/dev/null && printf -- '- %s: the whole body is `null`\n' "${f##*/}"
        done
        cat <<'EOF'

## Seen in this capture

- The order of the entries of NetworkList and ContainerChanges changes from one request to
  the next (the engine iterates a Go map); compare them as sets.
- ContainerChanges of a container with nothing written is `null`, not `[]`.
- Waiting for a container whose start failed answers at once, with its exit code 127 and
  the runtime's error in `Error.Message`.
EOF
        case "$engine" in
        20.10)
            cat <<'EOF'
- IPAM `Options` is `null` in NetworkList but `{}` in NetworkInspect for the same network.
- Below 1.28, NetworkList includes each network's `Containers`; below 1.25, SystemInfo has
  `ExecutionDriver` and `SecurityOptions` as bare names (`seccomp`, not
  `name=seccomp,profile=default`). Otherwise the bodies have the same fields at every version.
- Starting a container that mounts an existing named volume emits a second volume `create`
  event for it. A health check appears as container events `exec_create: /bin/sh -c true`,
  `exec_start: /bin/sh -c true`, `exec_die`, then `health_status: healthy`: the Action
  carries the command.
- Container events carry the old `status`, `id`, `from` fields next to `Type`, `Action`,
  `Actor`; network and volume events do not.
EOF
            ;;
        28.5.2)
            cat <<'EOF'
- ImageInspect has no `Container` member at any version (the 1.28–1.38 specs require it):
  the engine leaves out the empty ones.
- The bodies carry the same members at every version, also those newer than the version
  asked for: `GwPriority` and `DNSNames` in a container's networks, `EnableIPv4` in a
  network, `CDISpecDirs` in SystemInfo, at 1.24 as at 1.51.
- The built-in `none` and `host` networks have IPAM `Options` and `Config` `null` in
  NetworkList.
EOF
            ;;
        esac
    } >"$out/README.md"
}

for engine in "${engines[@]}"; do
    case "$engine" in 20.10 | 28.5.2) ;; *) die "unknown engine '$engine' (20.10 or 28.5.2)" ;; esac
    capture "$engine"
done
