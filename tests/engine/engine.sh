#!/usr/bin/env bash
# A private, throw-away Docker Engine for tests and fixture capture.
#
#   engine.sh start DIR [ENGINE]  start (or reuse) an engine whose whole state lives in DIR;
#                                 prints `export DOCKER_HOST=unix://DIR/docker.sock`
#   engine.sh stop DIR            stop it and everything it started; idempotent
#   engine.sh ensure-image        create busybox:test on the engine at $DOCKER_HOST if missing
#   engine.sh fetch ENGINE        get an engine's binaries (if it has its own); prints where
#
# ENGINE is 20.10 (the default: Debian bookworm's docker.io, API 1.12-1.41) or 28.5.2
# (Debian unstable's docker.io and containerd, API 1.24-1.51, unpacked into a cache outside
# the repository, never installed; both use bookworm's runc). Engines in different DIRs run
# side by side and share nothing with each other or a system engine: each has its own
# containerd and namespaces, sockets, data and exec root, cgroup parent and daemon.json.
# Nothing is pulled: there is no image registry here, so the one image is imported from
# busybox-static. Containers started on it must use `--network none` (there is no bridge).
#
# Only the export line (fetch: the directory) goes to stdout, so `eval "$(engine.sh start
# DIR)"` works.
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
    sed -n '2,20s/^# \{0,1\}//p' "$0" >&2
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

# The containerd namespaces of the engine in DIR: its images and containers are invisible
# to any other engine, even one that shared its containerd.
namespace_for() { printf 'engine-test-%s\n' "$(dir_hash "$1")"; }

# --- Engine 28.5.2 from Debian unstable ---------------------------------------------------

# The packages, pinned: version, sha256, and the sha1 that snapshot.debian.org files them
# under. Unstable keeps only its newest version; when these are gone from it, the exact
# files come from the snapshot archive (checked against the same sha256).
PINNED_28=(
    "docker.io 28.5.2+dfsg4-5 69a59cc77a1fb8ee9ad6859abc2e6de5d76b70887405595c2b1307818fecf682 6b96320c995cb6ec636e3ddd0449ed34dc78dd11"
    "containerd 2.1.9+ds1-5 2dda86ce7033fd612fc50e136679d8174ccad680eb29cd4611e0d2a1b84cf591 f36c73c3f281a44234b4d507cdfc85d2fcdcd39c"
)
SID_MIRROR=${ENGINE_SID_MIRROR:-http://deb.debian.org/debian}
SNAPSHOT=${ENGINE_SNAPSHOT_URL:-https://snapshot.debian.org}
# Outside the repository and every state DIR, so a second run (or another checkout) reuses it.
ENGINE_CACHE=${ENGINE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/moby-api/engines}

engine_root_28() { printf '%s/28.5.2\n' "$ENGINE_CACHE"; }

# The stamp names the pinned files: a cache made from other pins is made again.
pins_stamp() { printf '%s\n' "${PINNED_28[@]}"; }

fetch_28() {
    local root work lists apt_opts entry pkg version sha256 sha1 deb got
    root=$(engine_root_28)
    if [ -f "$root/.pins" ] && [ "$(cat "$root/.pins")" = "$(pins_stamp)" ]; then
        printf '%s\n' "$root"
        return 0
    fi
    [ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ] ||
        die "Engine 28.5.2 is pinned to Debian's amd64 packages; this machine is $(dpkg --print-architecture 2>/dev/null || echo 'not Debian')"
    command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || die "Engine 28.5.2 needs apt-get and dpkg-deb (Debian)"
    mkdir -p "$ENGINE_CACHE"
    # Two starts at once (xtask starts both engines in parallel) must not fetch twice.
    exec 8>"$ENGINE_CACHE/.lock"
    flock 8
    if [ -f "$root/.pins" ] && [ "$(cat "$root/.pins")" = "$(pins_stamp)" ]; then
        flock -u 8
        printf '%s\n' "$root"
        return 0
    fi
    work=$(mktemp -d "$ENGINE_CACHE/.fetch.XXXXXX")
    lists=$work/apt
    mkdir -p "$lists/lists/partial" "$lists/cache/archives/partial" "$work/debs" "$work/root"
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s sid main\n' "$SID_MIRROR" >"$lists/sources.list"
    # A private sources list, lists and cache: the machine's apt state is never touched.
    apt_opts=(-q -o "Dir::Etc::sourcelist=$lists/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$lists/lists"
        -o "Dir::Cache=$lists/cache" -o Acquire::Languages=none -o APT::Sandbox::User=root)
    log "fetching Engine 28.5.2 (docker.io, containerd) from Debian unstable into $root"
    if ! apt-get "${apt_opts[@]}" update >"$work/apt.log" 2>&1; then
        log "apt-get update of unstable failed (tail of its log below); trying the snapshot archive"
        tail -n 5 "$work/apt.log" >&2
    fi
    for entry in "${PINNED_28[@]}"; do
        read -r pkg version sha256 sha1 <<<"$entry"
        deb=$work/debs/${pkg}_${version}_amd64.deb
        if (cd "$work/debs" && apt-get "${apt_opts[@]}" download "$pkg=$version") >>"$work/apt.log" 2>&1 && [ -f "$deb" ]; then
            log "$pkg $version: from unstable"
        else
            log "$pkg $version is no longer in unstable; fetching it from $SNAPSHOT/file/$sha1"
            rm -f "$deb"
            if ! curl -fsSL --retry 2 --max-time 300 -o "$deb" "$SNAPSHOT/file/$sha1" 2>"$work/curl.err"; then
                got=$(tail -n 1 "$work/curl.err")
                rm -rf "$work"
                die "cannot get $pkg $version: it is not in unstable at $SID_MIRROR any more, and $SNAPSHOT/file/$sha1 failed (${got:-no answer}). Pin the versions unstable has now in PINNED_28 (tests/engine/engine.sh) or set ENGINE_SNAPSHOT_URL to a reachable snapshot mirror."
            fi
        fi
        got=$(sha256sum "$deb" | cut -d' ' -f1)
        [ "$got" = "$sha256" ] || { rm -rf "$work"; die "$pkg $version: sha256 $got, pinned $sha256"; }
        dpkg-deb -x "$deb" "$work/root"
    done
    for bin in usr/sbin/dockerd usr/bin/containerd usr/bin/containerd-shim-runc-v2; do
        [ -x "$work/root/$bin" ] || { rm -rf "$work"; die "the packages have no $bin"; }
    done
    rm -rf "$root"
    mv "$work/root" "$root"
    pins_stamp >"$root/.pins"
    rm -rf "$work"
    flock -u 8
    log "Engine 28.5.2 unpacked in $root ($(du -sh "$root" | cut -f1))"
    printf '%s\n' "$root"
}

# The directory whose usr/bin and usr/sbin hold the engine's dockerd and containerd; empty
# for the system's (20.10).
engine_root() {
    case "$1" in
    20.10) ;;
    28.5.2) fetch_28 ;;
    *) die "unknown engine '$1' (20.10 or 28.5.2)" ;;
    esac
}

# --- installation -------------------------------------------------------------------------

have_static_busybox() {
    [ -x /bin/busybox ] || return 1
    # Debian's plain `busybox` package is dynamic and would not run inside an empty rootfs.
    ! ldd /bin/busybox >/dev/null 2>&1
}

# Both engines use the system's runc (bookworm's 1.1.5: unstable's needs a newer glibc) and
# the 20.10 client for setup, so docker.io is installed for either.
have_engine() { command -v dockerd >/dev/null && command -v containerd >/dev/null && command -v runc >/dev/null && [ -x "$DOCKER_CLI" ]; }

install_if_missing() {
    have_engine && have_static_busybox && return 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        die "dockerd/containerd/runc/$DOCKER_CLI or a static /bin/busybox is missing, and apt-get as root is not available to install docker.io and busybox-static"
    fi
    # Two engines start at once (cargo xtask test): one installs, the other waits for it and
    # finds everything there.
    exec 9>/tmp/moby-api-engine-install.lock
    flock 9
    if have_engine && have_static_busybox; then
        flock -u 9
        return 0
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
    flock -u 9
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

write_containerd_config() { # dir exec_root engine
    # Like the config dockerd writes for a containerd it supervises. We run our own so that
    # dockerd never adopts a system containerd at /run/containerd/containerd.sock, which it
    # does whenever that socket file merely exists. CRI is Kubernetes-only noise; containerd
    # 2 (Engine 28.5.2) reads config version 3, where CRI is three plugins.
    local version=2 disabled='"io.containerd.grpc.v1.cri"'
    if [ "$3" = 28.5.2 ]; then
        version=3 disabled='"io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"'
    fi
    cat >"$1/containerd.toml" <<EOF
version = $version
root = "$1/data/containerd"
state = "$2/containerd"
disabled_plugins = [$disabled]

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
    local dir exec_root started engine=${2:-20.10} root ns
    local -a path_env=() engine_flags=()
    [ -n "${1:-}" ] || usage
    case "$engine" in 20.10 | 28.5.2) ;; *) die "unknown engine '$engine' (20.10 or 28.5.2)" ;; esac
    mkdir -p "$1"
    dir=$(cd "$1" && pwd -P)
    ((${#dir} <= 90)) || die "DIR is too long for a unix socket path: $dir"
    install_if_missing
    root=$(engine_root "$engine")
    exec_root=$(exec_root_for "$dir")
    ns=$(namespace_for "$dir")
    export DOCKER_HOST="unix://$dir/docker.sock"
    START_DIR=$dir
    trap on_start_exit EXIT

    if pid_from "$dir/dockerd.pid" dockerd >/dev/null && ping_ok "$dir" && [ "$(cat "$dir/engine" 2>/dev/null)" = "$engine" ]; then
        log "engine $engine already running in $dir"
    else
        # Whatever a crashed or killed run left (processes, mounts, sockets, pidfiles), or
        # the other engine in this DIR, would make dockerd or containerd refuse to start.
        (cmd_stop "$dir") || true
        mkdir -p "$dir/data" "$exec_root/containerd"
        : >"$dir/containerd.log"
        : >"$dir/dockerd.log"
        printf '%s\n' "$engine" >"$dir/engine"
        # Our own daemon.json keeps /etc/docker/daemon.json (if any) out of the picture. The
        # default pools (31 subnets) run out when every version's scenario creates networks
        # at once: 256 /24s instead, from a /16 of each engine's own.
        local pool=10.120.0.0/16
        [ "$engine" = 28.5.2 ] && pool=10.128.0.0/16
        printf '{"default-address-pools": [{"base": "%s", "size": 24}]}\n' "$pool" >"$dir/daemon.json"
        write_containerd_config "$dir" "$exec_root" "$engine"
        if [ -n "$root" ]; then
            # The unpacked engine's dockerd, containerd and shim first, then the system's runc.
            path_env=(env "PATH=$root/usr/sbin:$root/usr/bin:$PATH")
            # 20.10 has no ip6tables rules to turn off; 28 adds them by default, and turns
            # the machine's IPv4 forwarding on even without a bridge.
            engine_flags=(--ip6tables=false --ip-forward=false)
        fi

        started=$SECONDS
        LAUNCHED=1
        # setsid: the daemons must not die with the caller's shell or its terminal.
        setsid "${path_env[@]}" containerd --config "$dir/containerd.toml" >>"$dir/containerd.log" 2>&1 </dev/null &
        echo $! >"$dir/containerd.pid"
        wait_for 20 $! "containerd socket" test -S "$exec_root/containerd/containerd.sock"

        setsid "${path_env[@]}" dockerd \
            --host "unix://$dir/docker.sock" \
            --data-root "$dir/data" \
            --exec-root "$exec_root" \
            --pidfile "$dir/dockerd.pid" \
            --config-file "$dir/daemon.json" \
            --containerd "$exec_root/containerd/containerd.sock" \
            --containerd-namespace "$ns" \
            --containerd-plugins-namespace "$ns-plugins" \
            --cgroup-parent "/$(cgroup_parent_for "$dir")" \
            --iptables=false --ip-masq=false --bridge=none "${engine_flags[@]}" \
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

    rm -f "$dir/docker.sock" "$dir/dockerd.pid" "$dir/containerd.pid" "$dir/engine"
    # The /tmp fallback exec root is only runtime state of this engine.
    case "$exec_root" in "$dir"/*) ;; *) rm -rf "$exec_root" ;; esac
    return 0
}

case "${1:-}" in
start) cmd_start "${2:-}" "${3:-}" ;;
fetch) engine_root "${2:-}" ;;
stop) cmd_stop "${2:-}" ;;
ensure-image) ensure_image ;;
*) usage ;;
esac
