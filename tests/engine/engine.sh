#!/usr/bin/env bash
# A private, throw-away Docker Engine for tests and fixture capture.
#
#   engine.sh start DIR         start (or reuse) an engine whose whole state lives in DIR;
#                               prints `export DOCKER_HOST=unix://DIR/docker.sock`
#   engine.sh stop DIR          stop it and everything it started; idempotent
#   engine.sh ensure-image      create busybox:test on the engine at $DOCKER_HOST if missing
#
# The engine is Debian's docker.io (Engine 20.10, API 1.12-1.41). It shares nothing with a
# system engine: its own containerd, sockets, data root, cgroup parent and daemon.json.
# Nothing is pulled: there is no image registry here, so the one image is imported from
# busybox-static. Containers started on it must use `--network none` (there is no bridge).
#
# Only the export line goes to stdout, so `eval "$(engine.sh start DIR)"` works.
set -euo pipefail

# The machine's /usr/local/bin/docker is a newer client that shadows Debian's in PATH;
# the 20.10 client matches the engine, so name it explicitly.
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}
IMAGE=busybox:test
START_TIMEOUT=${ENGINE_START_TIMEOUT:-60}
STOP_TIMEOUT=${ENGINE_STOP_TIMEOUT:-30}

log() { printf 'engine.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,12s/^# \{0,1\}//p' "$0" >&2
    exit 2
}

# Per-DIR names that must not live in DIR itself: a short exec root when DIR is long, and
# the cgroup parent that lets `stop` find container processes the daemon left behind.
dir_hash() { printf '%s' "$1" | sha256sum | cut -c1-12; }

# Unix socket paths are limited to 107 bytes, and the exec root holds the containerd and
# libnetwork sockets a few levels down; fall back to /tmp when DIR is long.
exec_root_for() {
    local d="$1/exec"
    if ((${#d} > 48)); then d="/tmp/dkr-$(dir_hash "$1")"; fi
    printf '%s\n' "$d"
}

cgroup_parent_for() { printf 'engine-test-%s\n' "$(dir_hash "$1")"; }

# --- installation -------------------------------------------------------------------------

have_static_busybox() {
    [ -x /bin/busybox ] || return 1
    # Debian's plain `busybox` package is dynamic and would not run inside an empty rootfs.
    ! ldd /bin/busybox >/dev/null 2>&1
}

have_engine() { command -v dockerd >/dev/null && command -v containerd >/dev/null && command -v runc >/dev/null && [ -x "$DOCKER_CLI" ]; }

install_if_missing() {
    have_engine && have_static_busybox && return 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        die "dockerd/containerd/runc/$DOCKER_CLI or a static /bin/busybox is missing, and apt-get as root is not available to install docker.io and busybox-static"
    fi
    log "installing docker.io and busybox-static with apt-get"
    # Without systemd, the packages' postinst would start a system dockerd and containerd via
    # their init scripts; a policy-rc.d that says 101 forbids that. Keep one that is there.
    local policy=/usr/sbin/policy-rc.d made_policy=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
    fi
    local rc=0
    {
        DEBIAN_FRONTEND=noninteractive apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io busybox-static
    } >&2 || rc=$?
    [ -z "$made_policy" ] || rm -f "$policy"
    ((rc == 0)) || die "apt-get failed ($rc)"
    if ! have_engine || ! have_static_busybox; then die "docker.io/busybox-static installed, but still missing a binary"; fi
}

# --- start --------------------------------------------------------------------------------

ping_ok() { [ -S "$1/docker.sock" ] && [ "$(curl -s --max-time 2 --unix-socket "$1/docker.sock" http://localhost/_ping 2>/dev/null)" = OK ]; }

# A zombie still answers `kill -0` and keeps its comm; our daemons become zombies of a
# PID 1 that may be slow to reap them, so they must count as gone.
alive() {
    local state
    state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) && [ -n "$state" ] && [ "$state" != Z ]
}

# A pid from a pidfile is ours only if it is still the program we started there: pids are
# reused, and a stale pidfile must never make us signal a stranger.
pid_from() { # pidfile program
    local pid
    [ -s "$1" ] || return 1
    pid=$(tr -dc 0-9 <"$1")
    [ -n "$pid" ] && alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] && printf '%s\n' "$pid"
}

dump_logs() {
    local f lines
    for f in containerd.log:10 dockerd.log:40; do
        lines=${f#*:} f=$1/${f%:*}
        [ -s "$f" ] || continue
        printf '\n--- last %s lines of %s ---\n' "$lines" "$f" >&2
        tail -n "$lines" "$f" >&2
    done
}

write_containerd_config() { # dir exec_root
    # Like the config dockerd writes for a containerd it supervises. We run our own so that
    # dockerd never adopts a system containerd at /run/containerd/containerd.sock, which it
    # does whenever that socket file merely exists. CRI is Kubernetes-only noise.
    cat >"$1/containerd.toml" <<EOF
version = 2
root = "$1/data/containerd"
state = "$2/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$2/containerd/containerd.sock"

[ttrpc]
  address = "$2/containerd/containerd.sock.ttrpc"
EOF
}

# Polls until the command succeeds; gives up after the timeout, or at once when the process
# that should answer has died (no point waiting 60 s for a daemon that exited at once).
wait_for() { # seconds pid description command...
    local deadline=$((SECONDS + $1)) timeout=$1 pid=$2 what=$3
    shift 3
    until "$@"; do
        alive "$pid" || { log "$what: the process exited"; return 1; }
        ((SECONDS < deadline)) || { log "timed out after ${timeout}s waiting for $what"; return 1; }
        sleep 0.2
    done
}

# On any failure of `start`: show why, and stop what this call launched (not an engine that
# was already running). Globals, because the EXIT trap may run after cmd_start has unwound.
START_DIR=
LAUNCHED=
on_start_exit() {
    local rc=$?
    ((rc != 0)) && [ -n "$START_DIR" ] || return 0
    dump_logs "$START_DIR"
    [ -z "$LAUNCHED" ] || (cmd_stop "$START_DIR") >/dev/null 2>&1 || true
    log "start failed ($rc)"
}

cmd_start() {
    local dir exec_root started
    [ -n "${1:-}" ] || usage
    mkdir -p "$1"
    dir=$(cd "$1" && pwd -P)
    ((${#dir} <= 90)) || die "DIR is too long for a unix socket path: $dir"
    install_if_missing
    exec_root=$(exec_root_for "$dir")
    export DOCKER_HOST="unix://$dir/docker.sock"
    START_DIR=$dir
    trap on_start_exit EXIT

    if pid_from "$dir/dockerd.pid" dockerd >/dev/null && ping_ok "$dir"; then
        log "engine already running in $dir"
    else
        # Whatever a crashed or killed run left (processes, mounts, sockets, pidfiles) would
        # make dockerd or containerd refuse to start; clear it first.
        (cmd_stop "$dir") || true
        mkdir -p "$dir/data" "$exec_root/containerd"
        : >"$dir/containerd.log"
        : >"$dir/dockerd.log"
        # An empty daemon.json keeps /etc/docker/daemon.json (if any) out of the picture.
        printf '{}\n' >"$dir/daemon.json"
        write_containerd_config "$dir" "$exec_root"

        started=$SECONDS
        LAUNCHED=1
        # setsid: the daemons must not die with the caller's shell or its terminal.
        setsid containerd --config "$dir/containerd.toml" >>"$dir/containerd.log" 2>&1 </dev/null &
        echo $! >"$dir/containerd.pid"
        wait_for 20 $! "containerd socket" test -S "$exec_root/containerd/containerd.sock"

        setsid dockerd \
            --host "unix://$dir/docker.sock" \
            --data-root "$dir/data" \
            --exec-root "$exec_root" \
            --pidfile "$dir/dockerd.pid" \
            --config-file "$dir/daemon.json" \
            --containerd "$exec_root/containerd/containerd.sock" \
            --cgroup-parent "/$(cgroup_parent_for "$dir")" \
            --iptables=false --ip-masq=false --bridge=none \
            --storage-driver=vfs \
            >>"$dir/dockerd.log" 2>&1 </dev/null &
        wait_for "$START_TIMEOUT" $! "dockerd /_ping" ping_ok "$dir"
        log "engine up in $((SECONDS - started))s ($("$DOCKER_CLI" version --format '{{.Server.Version}}, API {{.Server.APIVersion}}'))"
    fi

    ensure_image
    printf 'export DOCKER_HOST=%s\n' "$DOCKER_HOST"
}

# --- image --------------------------------------------------------------------------------

ensure_image() {
    [ -n "${DOCKER_HOST:-}" ] || die "DOCKER_HOST is not set"
    "$DOCKER_CLI" image inspect "$IMAGE" >/dev/null 2>&1 && return 0
    have_static_busybox || install_if_missing
    local work rootfs applet
    work=$(mktemp -d)
    rootfs=$work/rootfs
    mkdir -p "$rootfs"/{bin,etc,root,tmp,proc,sys,dev}
    chmod 1777 "$rootfs/tmp"
    cp /bin/busybox "$rootfs/bin/busybox"
    # Every applet as a relative link, so sh, sleep, cat, echo, true, false, ps… all exist.
    for applet in $(/bin/busybox --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
    # A reproducible tar (fixed order, times and owners) gives the same layer digest each time.
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$work/rootfs.tar" .
    "$DOCKER_CLI" import \
        --change 'CMD ["sh"]' \
        --change 'ENV PATH=/bin' \
        --change 'LABEL org.example.fixture=busybox-static' \
        --message 'busybox-static rootfs for tests' \
        "$work/rootfs.tar" "$IMAGE" >&2
    rm -rf "$work"
    log "imported $IMAGE"
}

# --- stop ---------------------------------------------------------------------------------

stop_pid() { # pid name timeout
    local deadline=$((SECONDS + $3))
    kill -TERM "$1" 2>/dev/null || return 0
    while alive "$1"; do
        if ((SECONDS >= deadline)); then
            log "$2 ($1) ignored SIGTERM for $3s; sending SIGKILL"
            kill -KILL "$1" 2>/dev/null || true
            sleep 0.5
            return 0
        fi
        sleep 0.2
    done
}

# Processes that outlive a killed daemon: containerd shims and runc (named after paths in
# DIR or the exec root) and container processes (in our cgroup parent).
stray_pids() { # dir exec_root cgroup_parent
    local p pid comm cmd
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        if [ "$pid" = $$ ] || ! alive "$pid"; then continue; fi
        comm=$(cat "$p/comm" 2>/dev/null) || continue
        case "$comm" in
        dockerd | containerd | containerd-shim* | runc | docker-proxy)
            cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
            case "$cmd" in *"$1/"* | *"$2/"* | *"$2 "*) printf '%s\n' "$pid" ;; esac
            ;;
        *)
            grep -qs ":/$3/" "$p/cgroup" && printf '%s\n' "$pid"
            ;;
        esac
    done
    return 0
}

# Mount points under a directory, deepest first (mountinfo escapes spaces as \040).
mounts_under() {
    awk -v base="$1/" 'index($5, base) == 1 { print $5 }' /proc/self/mountinfo |
        while IFS= read -r m; do printf '%b\n' "$m"; done | sort -r
}

cmd_stop() {
    [ -n "${1:-}" ] || usage
    [ -d "$1" ] || return 0
    local dir exec_root cg pid root m
    local -a pids
    dir=$(cd "$1" && pwd -P)
    exec_root=$(exec_root_for "$dir")
    cg=$(cgroup_parent_for "$dir")

    # dockerd stops its containers (SIGTERM, then SIGKILL after their stop timeout) before it
    # exits, so give it time; containerd goes second so the shims can report back.
    if pid=$(pid_from "$dir/dockerd.pid" dockerd); then stop_pid "$pid" dockerd "$STOP_TIMEOUT"; fi
    if pid=$(pid_from "$dir/containerd.pid" containerd); then stop_pid "$pid" containerd 10; fi

    mapfile -t pids < <(stray_pids "$dir" "$exec_root" "$cg")
    if ((${#pids[@]})); then
        log "killing leftover processes: ${pids[*]}"
        kill -KILL "${pids[@]}" 2>/dev/null || true
        sleep 0.5
    fi
    # Empty container cgroups would otherwise pile up under every controller.
    find /sys/fs/cgroup -depth -type d -path "*/$cg*" -exec rmdir {} + 2>/dev/null || true

    # The data root is bind-mounted on itself and each container has a network namespace
    # file mounted in the exec root; a killed dockerd leaves them all.
    for root in "$dir" "$exec_root"; do
        mounts_under "$root" | while IFS= read -r m; do
            umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
        done
        [ -z "$(mounts_under "$root")" ] || die "mounts remain under $root"
    done

    rm -f "$dir/docker.sock" "$dir/dockerd.pid" "$dir/containerd.pid"
    # The /tmp fallback exec root is only runtime state of this engine.
    case "$exec_root" in "$dir"/*) ;; *) rm -rf "$exec_root" ;; esac
    return 0
}

case "${1:-}" in
start) cmd_start "${2:-}" ;;
stop) cmd_stop "${2:-}" ;;
ensure-image) ensure_image ;;
*) usage ;;
esac
