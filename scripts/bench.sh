#!/usr/bin/env bash
# bench.sh: mailscan's send and receive rates side by side with zmap, masscan and trafgen, in
# network namespaces of its own.
#
#   sudo scripts/bench.sh [send|recv|pace|all]      (default all)
#
# send  Packets per second that reach a silent veth, the tools alternated run by run (A B C A B C,
#       BENCH_ROUNDS rounds, the order rotated each round): mailscan --senders 1 and 2, zmap -T 1
#       and -T 2, masscan, trafgen --cpus 1 and 2 sending one fixed SYN (the kernel's own limit
#       for AF_PACKET TX ring → veth), and mailscan6 --senders 1 and 2: mailscan scanning an IPv6
#       prefix (78-byte frames against 58). Prints every run, the medians, and the ratios
#       mailscan/zmap, mailscan/masscan and mailscan/trafgen at equal sender/CPU counts, each
#       against its target (≥ 1.5, ≥ 1.5, ≥ 0.9), and IPv6/IPv4 for mailscan (≥ 0.8).
# recv  mailscan --closed at increasing -r into a namespace whose kernel answers every SYN with a
#       RST: probes sent, replies counted, kernel drops, reply rate, where any loss happened, and
#       the highest rate at which no reply was lost; first, trafgen's SYN flood measures what the
#       two kernels alone sustain on that path, and one run at -r 100k writes its hits for the
#       lab's checker (scripts/lab/labctl check): as many closed hits as probes, all distinct
#       targets of the scan.
# pace  mailscan -r 1k, 10k, 100k, 1M (1 sender) and 1M (2 senders) for a fixed number of probes:
#       asked vs achieved rate at the silent veth over the whole scan (first to last packet,
#       PASS within 2 %), and the CPU time mailscan used.
#
# The Debian packages it needs, the peers among them (zmap, masscan, netsniff-ng's trafgen), are
# installed when missing by scripts/install-deps.sh bench; a peer not installed is not measured.
#
# Environment:
#   BENCH_PREFIX     namespace prefix, 1-10 of [A-Za-z0-9_-] (default mb)
#   BENCH_ROUNDS     send rounds (default 3)
#   BENCH_SECS       seconds each send run is measured for once packets flow (default 4)
#   BENCH_PACE_SECS  length of each pace and recv run at its asked rate (default 3)
#   BENCH_DIR        scratch directory, removed on exit (default /run/mailscan-bench-$BENCH_PREFIX)
#   MAILSCAN         a mailscan binary to measure (default: go build ./cmd/mailscan of this tree)
#   BENCH_PEERS      peers to run, of "zmap masscan trafgen" (default all; trafgen also measures
#                    the kernels' ceiling in recv mode)
#   BENCH_STRICT=1   exit status 1 when a target is missed (default: report only)
#
# Topology (every address in 198.18.0.0/15, RFC 2544; nothing touches the root namespace, and no
# router sits in the path: on a 2-core machine it would take CPU from the tool being measured):
#
#   $P-scan  scan0 198.18.0.1/30 ───── sil0 198.18.0.2/30  $P-silent  AnyIP 198.19.0.0/16,
#                                                                     everything dropped at ingress
#            rcv0  198.18.0.5/30 ───── tgt0 198.18.0.6/30  $P-target  AnyIP 198.18.128.0/17, no
#                                                                     listener: the kernel RSTs
#
# Fixed MAC addresses (02:6d:62:00:LL:01 scanner side, :02 far side; LL 01 silent, 02 target)
# and permanent neighbour entries: no ARP, and every tool is given its gateway MAC. Checksum
# offload is off on every veth so that frames carry real checksums, as on a wire.
#
# Rates are counted by the receiving veth (rx_packets, read from /proc/PID/net/dev of a process
# in that namespace), sampled every 100 ms while the tool runs (10 ms in pace mode). A send
# run's rate is taken over the steady window: from the end of the first sampling interval in
# which the counter moved to the start of the last one, so start-up and shutdown do not count.
set -euo pipefail
export LC_ALL=C

readonly PROG=${0##*/}
readonly SILENT_RANGE=198.19.0.0/16
# The IPv6 send runs scan a /112 of the silent side's (65536 addresses × SEND_PORTS, in the
# documentation prefix): an address on scan0 and the prefix on-link, nothing else IPv6.
readonly SILENT_RANGE6=2001:db8:19::/112 SCAN_ADDR6=2001:db8:18::1
readonly TARGET_RANGE=198.18.128.0/17
readonly SCAN_ADDR=198.18.0.1 SIL_ADDR=198.18.0.2 RCV_ADDR=198.18.0.5 TGT_ADDR=198.18.0.6
readonly SCAN_MAC=02:6d:62:00:01:01 SIL_MAC=02:6d:62:00:01:02
readonly RCV_MAC=02:6d:62:00:02:01 TGT_MAC=02:6d:62:00:02:02
readonly SCAN_IF=scan0 SIL_IF=sil0 RCV_IF=rcv0 TGT_IF=tgt0
# Ports the send runs give mailscan and masscan: with the /16, 67 M targets, more than any run
# sends. zmap 2.1 scans one port, so it gets repeated probes (-P) instead.
readonly SEND_PORTS=1-1024 ZMAP_PORT=143 ZMAP_PROBES=1000
# Receive and pace runs cap the targets with -n; these ports make the space big enough.
readonly RECV_PORTS=1-128 PACE_PORTS=1-64

die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

log() {
	printf '%s: %s\n' "$PROG" "$*" >&2
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}

# --- configuration ----------------------------------------------------------------------------

MODE=${1:-all}
(($# <= 1)) || usage
case $MODE in
send | recv | pace | all) ;;
-h | --help | help) usage ;;
*) usage ;;
esac

P=${BENCH_PREFIX:-mb}
[[ $P =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,9}$ ]] ||
	die "BENCH_PREFIX=$P: want 1-10 characters of [A-Za-z0-9_-], starting with a letter or digit"
ROUNDS=${BENCH_ROUNDS:-3}
[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || die "BENCH_ROUNDS=$ROUNDS: want 1-99"
SECS=${BENCH_SECS:-4}
[[ $SECS =~ ^[1-9][0-9]?$ ]] || die "BENCH_SECS=$SECS: want 1-99 seconds"
PACE_SECS=${BENCH_PACE_SECS:-3}
[[ $PACE_SECS =~ ^[1-9][0-9]?$ ]] || die "BENCH_PACE_SECS=$PACE_SECS: want 1-99 seconds"
DIR=${BENCH_DIR:-/run/mailscan-bench-$P}
[[ $DIR =~ ^/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$ ]] ||
	die "BENCH_DIR=$DIR: want an absolute path of [A-Za-z0-9._/-], not /"
STRICT=${BENCH_STRICT:-0}
REPO=$(cd "$(dirname "$0")/.." && pwd)

readonly NS_SCAN=$P-scan NS_SILENT=$P-silent NS_TARGET=$P-target
readonly ALL_NS=("$NS_SCAN" "$NS_SILENT" "$NS_TARGET")
readonly MARKER=$DIR/.mailscan-bench
readonly LOCK_FILE=/run/lock/mailscan-bench.$P.lock

# --- processes and teardown -------------------------------------------------------------------

# STARTED holds the PIDs of the processes this script started and has not reaped yet; each leads
# its own session and process group (setsid), so signalling the group reaches a tool's children
# (trafgen forks one per CPU) and nothing else. An unreaped child's PID cannot be reused.
STARTED=()
CREATED_NS=()
SLEEP_FD=
LOCK_FD=

# start runs a command in its own session in the background and records its PID in START_PID.
# Without job control bash runs it as a child that is not a group leader, so setsid(1) calls
# setsid(2) and execs: the PID is the tool's own (ip netns exec execs too).
START_PID=
start() {
	setsid "$@" </dev/null &
	START_PID=$!
	STARTED+=("$START_PID")
}

# signal_group sends signal $2 to the process group led by PID $1, or to the PID alone while the
# new session is not set up yet.
signal_group() {
	kill -s "$2" -- "-$1" 2>/dev/null || kill -s "$2" "$1" 2>/dev/null || true
}

# alive tells whether PID $1 runs; a zombie (our unreaped child) does not.
alive() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# reap waits for PID $1 (already ended or signalled), leaves its exit status in REAP_RC and
# forgets it.
REAP_RC=0
reap() {
	REAP_RC=0
	wait "$1" 2>/dev/null || REAP_RC=$?
	local i
	for i in "${!STARTED[@]}"; do
		[[ ${STARTED[i]} != "$1" ]] || unset 'STARTED[i]'
	done
}

cleanup() {
	local rc=$? pid ns
	trap - EXIT INT TERM
	for pid in "${STARTED[@]}"; do
		signal_group "$pid" KILL
	done
	for pid in "${STARTED[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	STARTED=()
	for ns in "${CREATED_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null || log "could not delete namespace $ns"
	done
	if [[ -n $SLEEP_FD ]]; then
		exec {SLEEP_FD}>&-
	fi
	if [[ -e $MARKER ]]; then
		rm -rf -- "$DIR"
	fi
	if [[ -n $LOCK_FD ]]; then
		rm -f -- "$LOCK_FILE"
		exec {LOCK_FD}>&-
	fi
	exit "$rc"
}

# --- time -------------------------------------------------------------------------------------

# now_us leaves the wall clock in microseconds in NOW (EPOCHREALTIME: no fork).
NOW=0
now_us() {
	local t=$EPOCHREALTIME
	NOW=$((10#${t%.*} * 1000000 + 10#${t#*.}))
}

# nap_us sleeps $1 microseconds without forking: read times out on a FIFO nobody writes to.
nap_us() {
	(($1 > 0)) || return 0
	local s
	printf -v s '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000))
	read -r -t "$s" -u "$SLEEP_FD" _ || true
}

# --- prerequisites ----------------------------------------------------------------------------

need_root() {
	[[ $EUID -eq 0 ]] || die "must run as root (network namespaces, raw sockets)"
}

check_tools() {
	local missing=() pkgs=() entry tool pkg
	for entry in ip:iproute2 nft:nftables ethtool:ethtool jq:jq flock:util-linux \
		setsid:util-linux sysctl:procps mkfifo:coreutils getconf:libc-bin; do
		tool=${entry%%:*} pkg=${entry#*:}
		if ! command -v "$tool" >/dev/null 2>&1; then
			missing+=("$tool")
			[[ " ${pkgs[*]} " == *" $pkg "* ]] || pkgs+=("$pkg")
		fi
	done
	((${#missing[@]} == 0)) || die "missing ${missing[*]}; install with: apt-get install -y ${pkgs[*]}"
	# sudo resets PATH; Go's standard install place is worth a look.
	[[ -x /usr/local/go/bin/go ]] && PATH=$PATH:/usr/local/go/bin
	if [[ -z ${MAILSCAN:-} ]] && ! command -v go >/dev/null 2>&1; then
		die "no go to build mailscan with (PATH=$PATH); install Go or set MAILSCAN=/path/to/mailscan"
	fi
}

# find_peers sets HAVE_ZMAP, HAVE_MASSCAN and HAVE_TRAFGEN for the peers asked for (BENCH_PEERS)
# that are installed, and says how to install the others.
HAVE_ZMAP=0 HAVE_MASSCAN=0 HAVE_TRAFGEN=0
find_peers() {
	local -a peers
	read -r -a peers <<<"${BENCH_PEERS-zmap masscan trafgen}"
	local p pkg
	for p in "${peers[@]}"; do
		case $p in
		zmap | masscan) pkg=$p ;;
		trafgen) pkg=netsniff-ng ;;
		*) die "BENCH_PEERS: unknown peer '$p' (want some of: zmap masscan trafgen)" ;;
		esac
		if command -v "$p" >/dev/null 2>&1; then
			printf -v "HAVE_${p^^}" 1
		else
			log "$p is not installed, so not measured: apt-get install -y $pkg"
		fi
	done
}

lock_bench() {
	mkdir -p "${LOCK_FILE%/*}"
	exec {LOCK_FD}>>"$LOCK_FILE"
	flock -n "$LOCK_FD" || {
		exec {LOCK_FD}>&-
		LOCK_FD=
		die "another bench.sh with BENCH_PREFIX=$P is running ($LOCK_FILE)"
	}
}

# --- lab --------------------------------------------------------------------------------------

nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# check_stale refuses namespaces of the prefix that already exist: a previous run that was
# killed outright leaves them. Empty ones are removed; one with processes in it is not ours to
# kill, so the user decides.
check_stale() {
	local ns pids
	for ns in "${ALL_NS[@]}"; do
		[[ -e /run/netns/$ns ]] || continue
		mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
		((${#pids[@]} == 0)) ||
			die "namespace $ns exists with processes ${pids[*]}; end them and 'ip netns del $ns', or set BENCH_PREFIX"
		log "removing the empty namespace $ns left by an earlier run"
		ip netns del "$ns"
	done
}

make_ns() {
	local ns=$1
	ip netns add "$ns"
	CREATED_NS+=("$ns")
	# IPv6 off: no router solicitations or DAD frames in the counters. -e: a kernel without IPv6
	# has no such keys. Every setting here is the namespace's own.
	nsx "$ns" sysctl -q -e -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	ip -n "$ns" link set lo up
}

# link_pair connects $P-scan's $1 ($2, $3) with namespace $4's $5 ($6, $7), both /30.
link_pair() {
	local sif=$1 saddr=$2 smac=$3 ns=$4 pif=$5 paddr=$6 pmac=$7
	ip -n "$NS_SCAN" link add "$sif" address "$smac" type veth peer name "$pif" address "$pmac" netns "$ns"
	nsx "$NS_SCAN" ethtool -K "$sif" tx off >/dev/null 2>&1 || die "ethtool -K $sif tx off failed"
	nsx "$ns" ethtool -K "$pif" tx off >/dev/null 2>&1 || die "ethtool -K $pif tx off failed"
	ip -n "$NS_SCAN" addr add "$saddr/30" dev "$sif"
	ip -n "$ns" addr add "$paddr/30" dev "$pif"
	ip -n "$NS_SCAN" link set "$sif" up
	ip -n "$ns" link set "$pif" up
	ip -n "$NS_SCAN" neigh replace "$paddr" lladdr "$pmac" dev "$sif" nud permanent
	ip -n "$ns" neigh replace "$saddr" lladdr "$smac" dev "$pif" nud permanent
}

HOLD_SCAN='' HOLD_SILENT='' HOLD_TARGET=''
build_lab() {
	make_ns "$NS_SCAN"
	make_ns "$NS_SILENT"
	make_ns "$NS_TARGET"
	link_pair "$SCAN_IF" "$SCAN_ADDR" "$SCAN_MAC" "$NS_SILENT" "$SIL_IF" "$SIL_ADDR" "$SIL_MAC"
	link_pair "$RCV_IF" "$RCV_ADDR" "$RCV_MAC" "$NS_TARGET" "$TGT_IF" "$TGT_ADDR" "$TGT_MAC"
	ip -n "$NS_SCAN" route add "$SILENT_RANGE" via "$SIL_ADDR" dev "$SCAN_IF"
	ip -n "$NS_SCAN" route add "$TARGET_RANGE" via "$TGT_ADDR" dev "$RCV_IF"
	ip -n "$NS_SILENT" route add local "$SILENT_RANGE" dev lo
	ip -n "$NS_TARGET" route add local "$TARGET_RANGE" dev lo
	# IPv6 on scan0 alone, for the mailscan6 runs: no link-local address, DAD or solicitations.
	nsx "$NS_SCAN" sysctl -q -w net.ipv6.conf.all.disable_ipv6=0 "net.ipv6.conf.$SCAN_IF.addr_gen_mode=1" \
		"net.ipv6.conf.$SCAN_IF.accept_dad=0" "net.ipv6.conf.$SCAN_IF.router_solicitations=0" \
		"net.ipv6.conf.$SCAN_IF.disable_ipv6=0" >/dev/null
	ip -n "$NS_SCAN" -6 addr flush dev "$SCAN_IF" scope link
	ip -n "$NS_SCAN" -6 addr add "$SCAN_ADDR6/64" dev "$SCAN_IF" nodad
	ip -n "$NS_SCAN" -6 route add "$SILENT_RANGE6" dev "$SCAN_IF"
	# The silent side drops every frame at the netdev ingress hook: after the veth has counted it,
	# before IP. Nothing cheaper is on offer without XDP, and whatever the drop costs is charged
	# to the sending CPU (veth delivers in the sender's softirq) equally for every tool.
	nsx "$NS_SILENT" nft -f - <<EOF
table netdev mailscan_bench {
	chain ingress {
		type filter hook ingress device "$SIL_IF" priority -500; policy drop;
	}
}
EOF
	# The target runs no nftables and no listener: each SYN to its AnyIP range gets the kernel's
	# RST (tcp_v4_send_reset is not rate limited), and without a ruleset conntrack never hooks
	# this namespace.
	# A process in each namespace gives /proc/PID/net/dev to read the counters from without a
	# fork per sample.
	start ip netns exec "$NS_SCAN" sleep infinity >/dev/null 2>&1
	HOLD_SCAN=$START_PID
	start ip netns exec "$NS_SILENT" sleep infinity >/dev/null 2>&1
	HOLD_SILENT=$START_PID
	start ip netns exec "$NS_TARGET" sleep infinity >/dev/null 2>&1
	HOLD_TARGET=$START_PID
	local h ns tries
	for h in "$HOLD_SCAN:$NS_SCAN" "$HOLD_SILENT:$NS_SILENT" "$HOLD_TARGET:$NS_TARGET"; do
		ns=${h#*:} h=${h%%:*} tries=200
		# Until ip netns exec has switched, /proc/$h/net is the root namespace's.
		until [[ /proc/$h/ns/net -ef /run/netns/$ns ]]; do
			((tries-- > 0)) || die "counter reader $h did not enter $ns"
			nap_us 10000
		done
	done
}

# dev_stats reads interface $2's counters in the namespace of PID $1 into RXP (rx_packets),
# TXP (tx_packets) and TXD (tx_dropped).
RXP=0 TXP=0 TXD=0
dev_stats() {
	local line name f
	while IFS= read -r line; do
		[[ $line == *:* ]] || continue
		name=${line%%:*}
		[[ ${name##* } == "$2" ]] || continue
		read -r -a f <<<"${line#*:}"
		RXP=${f[1]} TXP=${f[9]} TXD=${f[11]}
		return 0
	done <"/proc/$1/net/dev" 2>/dev/null
	return 1
}

# --- measuring --------------------------------------------------------------------------------

# cpu_ticks leaves in BUSY the clock ticks all CPUs spent busy (anything but idle and iowait,
# steal included: whoever ran, the tool did not) and in PTICKS the user+system ticks of PID $1,
# all its threads (0 when it is gone).
BUSY=0 PTICKS=0 TCK=100
cpu_ticks() {
	local u n s rest stat
	local -a f
	read -r _ u n s _ _ rest </proc/stat
	read -r -a f <<<"$rest"
	BUSY=$((u + n + s + f[0] + f[1] + f[2]))
	PTICKS=0
	if { read -r stat <"/proc/$1/stat"; } 2>/dev/null; then
		read -r -a f <<<"${stat##*) }"
		PTICKS=$((f[11] + f[12]))
	fi
}

# run_sampled starts a command (after the first 6 arguments) with stdout and stderr to $6, and
# samples counter $3 (RXP or TXP) of interface $2 in PID $1's namespace every $4 µs until it
# ends. With $5 > 0 the command is stopped (SIGTERM to its group) once the counter has moved for
# $5 seconds; with $5 = 0 it runs to its end (killed after RUN_LIMIT seconds). Leaves the samples
# in ST (µs), SC (counter), SB (machine busy ticks) and SU (the command's CPU ticks), the exit
# status in RUN_RC, and RUN_STOPPED=1 when the script stopped it.
ST=() SC=() SB=() SU=()
RUN_RC=0 RUN_STOPPED=0 RUN_LIMIT=120
run_sampled() {
	local holder=$1 ifc=$2 field=$3 period=$4 secs=$5 out=$6
	shift 6
	ST=() SC=() SB=() SU=()
	RUN_RC=0 RUN_STOPPED=0
	dev_stats "$holder" "$ifc" || die "no counters for $ifc"
	cpu_ticks 0
	now_us
	ST+=("$NOW") SC+=("${!field}") SB+=("$BUSY") SU+=(0)
	local t0=$NOW moved=0 stop_at=0 done=0 pid
	start "$@" >"$out" 2>&1
	pid=$START_PID
	local next=$((t0 + period))
	while ((!done)); do
		now_us
		nap_us $((next - NOW))
		next=$((next + period))
		# Alive first, then the sample: a sample taken after the exit is final.
		alive "$pid" || done=1
		dev_stats "$holder" "$ifc" || die "lost the counters of $ifc"
		cpu_ticks "$pid"
		now_us
		# A zombie's stat still holds its final times; a reaped process has none.
		((PTICKS > 0 || ${#SU[@]} < 2)) || PTICKS=${SU[-1]}
		ST+=("$NOW") SC+=("${!field}") SB+=("$BUSY") SU+=("$PTICKS")
		((done)) && break
		if ((!moved && ${!field} > SC[0])); then
			moved=$NOW
		fi
		if ((stop_at == 0)); then
			if ((secs > 0 && moved && NOW - moved >= secs * 1000000)) ||
				((NOW - t0 >= RUN_LIMIT * 1000000)) ||
				((!moved && NOW - t0 >= 20000000)); then
				signal_group "$pid" TERM
				stop_at=$NOW RUN_STOPPED=1
			fi
		elif ((NOW - stop_at >= 10000000)); then
			signal_group "$pid" KILL
		fi
	done
	reap "$pid"
	RUN_RC=$REAP_RC
}

# steady_rate leaves in RATE the packets per second over the steady window of the samples: from
# the end of the first interval in which the counter moved (a) to the start of the last one (b),
# both partly idle. Also WIN_A, WIN_B, TOTAL (packets counted in all), and in hundredths of a
# CPU, WIN_BUSY (all CPUs busy, whatever ran) and WIN_CPU (the command's own process) over the
# window. Fails when the window holds fewer than one full interval.
RATE=0 WIN_A=0 WIN_B=0 TOTAL=0
steady_rate() {
	local n=${#SC[@]} i a=-1 b=-1
	RATE=0 TOTAL=$((SC[n - 1] - SC[0]))
	for ((i = 1; i < n; i++)); do
		if ((SC[i] > SC[i - 1])); then
			((a >= 0)) || a=$i
			b=$i
		fi
	done
	((a >= 0 && b - 1 > a)) || return 1
	WIN_A=$a WIN_B=$b
	local us=$((ST[b - 1] - ST[a]))
	RATE=$(((SC[b - 1] - SC[a]) * 1000000 / us))
	WIN_BUSY=$(((SB[b - 1] - SB[a]) * 100000000 / (TCK * us)))
	WIN_CPU=$(((SU[b - 1] - SU[a]) * 100000000 / (TCK * us)))
}
WIN_BUSY=0 WIN_CPU=0

# cpus formats hundredths of a CPU $1 as CPUs with 2 decimals.
cpus() {
	printf '%d.%02d' $(($1 / 100)) $(($1 % 100))
}

# whole_rate leaves in WHOLE_MILLI the rate over the whole scan, first to last packet, in
# thousandths of a packet per second. The first packet lies in the interval (a-1, a], the last
# in (b-1, b]; within each the time is interpolated at the steady rate, which bounds the error by
# a fraction of one sampling period (10 ms in pace mode) at each end.
WHOLE_MILLI=0 WHOLE_PKTS=0 WHOLE_US=0
whole_rate() {
	steady_rate || return 1
	local a=$WIN_A b=$WIN_B first last k
	((RATE > 0)) || return 1
	k=$((SC[a] - SC[a - 1]))
	first=$((ST[a] - (k - 1) * 1000000 / RATE))
	((first >= ST[a - 1])) || first=${ST[a - 1]}
	k=$((SC[b] - SC[b - 1]))
	last=$((ST[b - 1] + k * 1000000 / RATE))
	((last <= ST[b])) || last=${ST[b]}
	WHOLE_PKTS=$((SC[b] - SC[a - 1]))
	WHOLE_US=$((last - first))
	((WHOLE_US > 0 && WHOLE_PKTS > 1)) || return 1
	WHOLE_MILLI=$(((WHOLE_PKTS - 1) * 1000000000 / WHOLE_US))
}

# mpps formats packets per second $1 as millions with 3 decimals.
mpps() {
	local k=$((($1 + 500) / 1000))
	printf '%d.%03d' $((k / 1000)) $((k % 1000))
}

# median prints the median of its integer arguments.
median() {
	local -a v
	mapfile -t v < <(printf '%s\n' "$@" | sort -n)
	local n=${#v[@]}
	if ((n % 2)); then
		printf '%d' "${v[n / 2]}"
	else
		printf '%d' $(((v[n / 2 - 1] + v[n / 2]) / 2))
	fi
}

# --- the tools --------------------------------------------------------------------------------

MS_BIN=
MS_SEND_MODE=
build_mailscan() {
	if [[ -n ${MAILSCAN:-} ]]; then
		[[ -x $MAILSCAN ]] || die "MAILSCAN=$MAILSCAN is not an executable"
		MS_BIN=$MAILSCAN
		return
	fi
	MS_BIN=$DIR/mailscan
	(cd "$REPO" && CGO_ENABLED=0 go build -o "$MS_BIN" ./cmd/mailscan) || die "go build ./cmd/mailscan failed in $REPO"
}

# build_labctl builds the lab's checker (scripts/lab/labctl), which recv uses to check that the
# replies mailscan counts are the targets it probed.
LABCTL=
build_labctl() {
	LABCTL=$DIR/labctl
	(cd "$REPO" && go build -o "$LABCTL" ./scripts/lab/labctl) || die "go build ./scripts/lab/labctl failed in $REPO"
}

# write_trafgen_cfg writes to $1 the one SYN trafgen sends, from MAC $2 and address $3 to MAC $4
# and address $5, port 143: mailscan's own probe (58 bytes: MSS option, DF, TTL 64, window
# 65535), checksums computed here so that trafgen sends a static frame with no per-packet work.
write_trafgen_cfg() {
	local out=$1 smac=$2 saddr=$3 dmac=$4 daddr=$5
	local -a sa da
	IFS=. read -r -a sa <<<"$saddr"
	IFS=. read -r -a da <<<"$daddr"
	local -a ip=(0x45 0x00 0x00 0x2c 0x00 0x00 0x40 0x00 0x40 0x06 0 0 "${sa[@]}" "${da[@]}")
	local -a tcp=(0x9c 0x40 0x00 0x8f 0x12 0x34 0x56 0x78 0 0 0 0 0x60 0x02 0xff 0xff 0 0 0 0 0x02 0x04 0x05 0xb4)
	local sum=0 i
	for ((i = 0; i < ${#ip[@]}; i += 2)); do
		sum=$((sum + (ip[i] << 8 | ip[i + 1])))
	done
	while ((sum >> 16)); do sum=$(((sum & 0xffff) + (sum >> 16))); done
	sum=$((~sum & 0xffff))
	ip[10]=$((sum >> 8)) ip[11]=$((sum & 0xff))
	# TCP pseudo-header: both addresses, the protocol, the TCP length.
	sum=$(((sa[0] << 8 | sa[1]) + (sa[2] << 8 | sa[3]) + (da[0] << 8 | da[1]) + (da[2] << 8 | da[3]) + 6 + ${#tcp[@]}))
	for ((i = 0; i < ${#tcp[@]}; i += 2)); do
		sum=$((sum + (tcp[i] << 8 | tcp[i + 1])))
	done
	while ((sum >> 16)); do sum=$(((sum & 0xffff) + (sum >> 16))); done
	sum=$((~sum & 0xffff))
	tcp[16]=$((sum >> 8)) tcp[17]=$((sum & 0xff))
	local dst src bytes=() b
	IFS=: read -r -a dst <<<"$dmac"
	IFS=: read -r -a src <<<"$smac"
	for b in "${dst[@]}" "${src[@]}" 08 00; do bytes+=("0x$b"); done
	for b in "${ip[@]}" "${tcp[@]}"; do bytes+=("$(printf '0x%02x' "$b")"); done
	local IFS=,
	printf '{ %s }\n' "${bytes[*]}" >"$out"
}

# send_cmd leaves in CMD the command line of tool $1 with $2 senders/threads/CPUs sending as
# fast as it can into the silent range.
CMD=()
send_cmd() {
	local tool=$1 n=$2
	case $tool in
	mailscan)
		CMD=(ip netns exec "$NS_SCAN" "$MS_BIN" syn -r 0 --senders "$n" -p "$SEND_PORTS"
			--allow-reserved 198.18.0.0/15 --cooldown 0 -q -o /dev/null --metadata "$DIR/meta.json"
			-i "$SCAN_IF" -S "$SCAN_ADDR" -G "$SIL_MAC" "$SILENT_RANGE")
		;;
	mailscan6)
		CMD=(ip netns exec "$NS_SCAN" "$MS_BIN" syn -r 0 --senders "$n" -p "$SEND_PORTS"
			--allow-reserved 2001:db8::/32 --cooldown 0 -q -o /dev/null --metadata "$DIR/meta.json"
			-i "$SCAN_IF" -S "$SCAN_ADDR6" -G "$SIL_MAC" "$SILENT_RANGE6")
		;;
	zmap)
		# -r 0: no rate limit; -c 0: no cooldown; an empty -b replaces the default blocklist,
		# which holds 198.18.0.0/15.
		CMD=(ip netns exec "$NS_SCAN" zmap -p "$ZMAP_PORT" -P "$ZMAP_PROBES" -T "$n" -r 0 -c 0
			-b "$DIR/empty.blocklist" -i "$SCAN_IF" -S "$SCAN_ADDR" -G "$SIL_MAC" -o /dev/null -q
			-v 1 --disable-syslog "$SILENT_RANGE")
		;;
	masscan)
		CMD=(ip netns exec "$NS_SCAN" masscan "$SILENT_RANGE" -p "$SEND_PORTS" --rate 100000000
			--adapter "$SCAN_IF" --adapter-ip "$SCAN_ADDR" --adapter-mac "$SCAN_MAC"
			--router-mac "$SIL_MAC" --wait 0 -oL /dev/null)
		;;
	trafgen)
		# Defaults: TX ring, PACKET_QDISC_BYPASS, no gap, endless. --no-sock-mem and
		# --notouch-irq: trafgen would otherwise rewrite host-wide sysctls and IRQ affinities.
		CMD=(ip netns exec "$NS_SCAN" trafgen --dev "$SCAN_IF" --conf "$DIR/syn.trafgen" --cpus "$n"
			--no-sock-mem --notouch-irq)
		;;
	esac
}

# --- send -------------------------------------------------------------------------------------

declare -A SEND_RATES=()
SEND_RUNS=()
FAILED=0

bench_send() {
	local runs=()
	runs+=("mailscan 1")
	((HAVE_ZMAP)) && runs+=("zmap 1")
	((HAVE_MASSCAN)) && runs+=("masscan 1")
	((HAVE_TRAFGEN)) && runs+=("trafgen 1")
	runs+=("mailscan6 1")
	runs+=("mailscan 2")
	((HAVE_ZMAP)) && runs+=("zmap 2")
	((HAVE_TRAFGEN)) && runs+=("trafgen 2")
	runs+=("mailscan6 2")
	SEND_RUNS=("${runs[@]}")
	printf '\n== send: packets/s reaching the silent veth, %d s steady window, %d round(s)\n' "$SECS" "$ROUNDS"
	printf '   (mailscan -p %s --probes 1 over %s; zmap -p %s -P %s; masscan -p %s; trafgen one SYN)\n' \
		"$SEND_PORTS" "$SILENT_RANGE" "$ZMAP_PORT" "$ZMAP_PROBES" "$SEND_PORTS"
	printf '   (busy: CPUs busy machine-wide in the window, whoever ran: well above 1.00 for a 1-CPU run\n'
	printf '    means another load shared the machine; a 2-CPU run cannot show it, compare its rounds)\n'
	local r i k run tool n note
	for ((r = 0; r < ROUNDS; r++)); do
		for ((k = 0; k < ${#runs[@]}; k++)); do
			# Each round starts one tool further on, so that no tool always follows another.
			i=$(((k + r) % ${#runs[@]}))
			run=${runs[i]}
			tool=${run% *} n=${run#* }
			send_cmd "$tool" "$n"
			rm -f "$DIR/meta.json"
			run_sampled "$HOLD_SILENT" "$SIL_IF" RXP 100000 "$SECS" "$DIR/run.log" "${CMD[@]}"
			note=""
			if ! steady_rate; then
				note="no steady window (counted $TOTAL packets)"
				RATE=0
			elif ((!RUN_STOPPED)); then
				note="ended by itself (exit $RUN_RC) after $TOTAL packets"
			fi
			if [[ $tool == mailscan* && -s $DIR/meta.json ]]; then
				local sm
				sm=$(jq -r '.summary.send_mode' "$DIR/meta.json")
				note+="${note:+; }$sm"
			fi
			SEND_RATES[$run]+="$RATE "
			printf '   round %d  %-8s %s  %s Mpps  busy %s CPUs  %9d pkts%s\n' $((r + 1)) "$tool" "$n" \
				"$(mpps "$RATE")" "$(cpus "$WIN_BUSY")" "$TOTAL" "${note:+  ($note)}"
			if [[ -n $note && $RATE == 0 ]]; then
				sed 's/^/      | /' "$DIR/run.log" | tr '\r' '\n' | tail -n 5
			fi
		done
	done
}

report_send() {
	printf '\n== send: results (Mpps at the silent veth)\n'
	printf '   (mailscan --send-mode auto: sender i uses AF_XDP on queue i where the device has it, AF_PACKET otherwise;\n'
	printf '    each mailscan run above names the send paths it used)\n'
	printf '   %-9s %-12s' tool senders/cpus
	local r
	for ((r = 1; r <= ROUNDS; r++)); do printf ' %8s' "round $r"; done
	printf ' %8s\n' median
	local run v
	declare -gA SEND_MED=()
	for run in "${SEND_RUNS[@]}"; do
		local -a vals
		read -r -a vals <<<"${SEND_RATES[$run]}"
		printf '   %-9s %-12s' "${run% *}" "${run#* }"
		for v in "${vals[@]}"; do printf ' %8s' "$(mpps "$v")"; done
		SEND_MED[$run]=$(median "${vals[@]}")
		printf ' %8s\n' "$(mpps "${SEND_MED[$run]}")"
	done
	printf '\n== send: ratios of medians (target in brackets)\n'
	ratio "mailscan 1" "zmap 1" 150 "mailscan/zmap, 1 sender (-T 1)"
	ratio "mailscan 2" "zmap 2" 150 "mailscan/zmap, 2 senders (-T 2)"
	ratio "mailscan 1" "masscan 1" 150 "mailscan 1 sender/masscan (1 transmit thread)"
	ratio "mailscan 1" "trafgen 1" 90 "mailscan/trafgen, 1 CPU"
	ratio "mailscan 2" "trafgen 2" 90 "mailscan/trafgen, 2 CPUs"
	ratio "mailscan6 1" "mailscan 1" 80 "mailscan IPv6/IPv4, 1 sender"
	ratio "mailscan6 2" "mailscan 2" 80 "mailscan IPv6/IPv4, 2 senders"
}

# ratio prints median($1)/median($2) against a target of $3/100, labelled $4.
ratio() {
	local a=${SEND_MED[$1]:-} b=${SEND_MED[$2]:-} want=$3 label=$4
	if [[ -z $b ]]; then
		printf '   %-48s   n/a  (%s not run)\n' "$label" "${2% *}"
		return
	fi
	if ((b == 0)); then
		printf '   %-48s   n/a  (%s measured 0)\n' "$label" "$2"
		FAILED=1
		return
	fi
	local x=$((a * 1000 / b)) verdict=PASS
	((x >= want * 10)) || verdict=FAIL FAILED=1
	printf '   %-48s %d.%03d  [>= %d.%02d]  %s\n' "$label" $((x / 1000)) $((x % 1000)) \
		$((want / 100)) $((want % 100)) "$verdict"
}

# --- recv -------------------------------------------------------------------------------------

# recv_check runs one scan at a modest rate with its hits written, and has labctl check them: as
# many closed hits as probes, each a distinct target of the range and ports scanned. The rate runs
# below only count (-o /dev/null): this is what makes their counts mean targets.
recv_check() {
	local n=20000 out=$DIR/recv-check.csv sent
	if ! ip netns exec "$NS_SCAN" "$MS_BIN" syn --closed -r 100000 -n "$n" -p "$RECV_PORTS" \
		--allow-reserved 198.18.0.0/15 --cooldown 1 -q -o "$out" --metadata "$DIR/meta.json" \
		-i "$RCV_IF" -S "$RCV_ADDR" -G "$TGT_MAC" "$TARGET_RANGE" >"$DIR/run.log" 2>&1; then
		printf '   check run failed\n'
		sed 's/^/      | /' "$DIR/run.log" | tail -n 5
		FAILED=1
		return
	fi
	sent=$(jq -r .summary.sent "$DIR/meta.json")
	printf '   check at -r 100000, %d probes: ' "$sent"
	"$LABCTL" check -within "$TARGET_RANGE" -ports "$RECV_PORTS" -status closed -count "$sent" "$out" 2>&1 || FAILED=1
}

bench_recv() {
	printf '\n== recv: mailscan --closed into %s (every SYN answered by a kernel RST)\n' "$TARGET_RANGE"
	printf '   each run about %d s at its rate (-n caps the targets, -p %s), --cooldown 1; reply Mpps is\n' \
		"$PACE_SECS" "$RECV_PORTS"
	printf '   the steady rate of RSTs reaching the scanner; cpu: the CPUs mailscan'"'"'s threads used in that\n'
	printf '   window, which includes the kernel work its system calls trigger: veth delivers in the\n'
	printf '   sender'"'"'s softirq, so the target kernel'"'"'s SYN → RST work and the scanner kernel'"'"'s receive\n'
	printf '   path mostly run on mailscan'"'"'s sender thread)\n'
	recv_ceiling
	recv_check
	printf '   %-9s %8s %8s %7s %8s %8s %8s %10s %5s  %s\n' "-r" sent replies drops syn@tgt \
		rst@tgt rst@scan "reply Mpps" cpu verdict
	local best=-1 best_r="" r rates=(100000 200000 300000 500000 700000 1000000 0)
	for r in "${rates[@]}"; do
		local n=$((r * PACE_SECS)) label=$r
		((r > 0)) || n=4000000 label=unlimited
		((n <= 4000000)) || n=4000000
		local t_rx0 t_tx0 s_rx0 s_txd0
		dev_stats "$HOLD_TARGET" "$TGT_IF"
		t_rx0=$RXP t_tx0=$TXP
		dev_stats "$HOLD_SCAN" "$RCV_IF"
		s_rx0=$RXP s_txd0=$TXD
		rm -f "$DIR/meta.json"
		run_sampled "$HOLD_SCAN" "$RCV_IF" RXP 100000 0 "$DIR/run.log" \
			ip netns exec "$NS_SCAN" "$MS_BIN" syn --closed -r "$r" -n "$n" -p "$RECV_PORTS" \
			--allow-reserved 198.18.0.0/15 --cooldown 1 -q -o /dev/null --metadata "$DIR/meta.json" \
			-i "$RCV_IF" -S "$RCV_ADDR" -G "$TGT_MAC" "$TARGET_RANGE"
		if [[ ! -s $DIR/meta.json ]] || ((RUN_STOPPED || RUN_RC != 0)); then
			printf '   %-9s run failed (exit %d)\n' "$label" "$RUN_RC"
			sed 's/^/      | /' "$DIR/run.log" | tail -n 5
			FAILED=1
			continue
		fi
		local syn rst arrived vdrop
		dev_stats "$HOLD_TARGET" "$TGT_IF"
		syn=$((RXP - t_rx0)) rst=$((TXP - t_tx0))
		dev_stats "$HOLD_SCAN" "$RCV_IF"
		arrived=$((RXP - s_rx0)) vdrop=$((TXD - s_txd0))
		local sent replies drops mode
		read -r sent replies drops mode < <(jq -r \
			'.summary | "\(.sent) \(.replies) \(.kernel_drops) \(.send_mode)"' "$DIR/meta.json")
		steady_rate || RATE=0 WIN_CPU=0
		local verdict=OK where=()
		if ((replies != sent || drops != 0)); then
			verdict=LOSS
			((syn >= sent)) || where+=("$((sent - syn)) SYNs lost on the way, veth drops $vdrop")
			((rst >= syn)) || where+=("the target sent $((syn - rst)) fewer RSTs than it got SYNs")
			((arrived >= rst)) || where+=("$((rst - arrived)) RSTs lost on the way back")
			((replies >= arrived)) || where+=("mailscan counted $((arrived - replies)) fewer than arrived")
		elif ((RATE > best)); then
			best=$RATE best_r=$label
		fi
		printf '   %-9s %8d %8d %7d %8d %8d %8d %10s %5s  %s%s\n' "$label" "$sent" "$replies" \
			"$drops" "$syn" "$rst" "$arrived" "$(mpps "$RATE")" "$(cpus "$WIN_CPU")" \
			"$verdict" "${where[*]:+ (${where[*]})}"
		MS_SEND_MODE=$mode
	done
	if ((best < 0)); then
		printf '   no run without loss: replies != probes or kernel drops > 0 in every run\n'
		FAILED=1
		return
	fi
	local verdict=PASS
	((best >= 500000)) || verdict=FAIL FAILED=1
	printf '   highest reply rate without loss: %s Mpps (at -r %s) [>= 0.500]  %s\n' \
		"$(mpps "$best")" "$best_r" "$verdict"
	[[ -z ${MS_SEND_MODE:-} ]] || printf '   mailscan send path: %s\n' "$MS_SEND_MODE"
}

# recv_ceiling measures what the two kernels alone sustain on the receive path: trafgen floods
# the target with one fixed SYN on 1 and 2 CPUs, and the RSTs reaching the scanner veth are
# counted, with no receiver in user space. mailscan's reply rate is bounded by this.
recv_ceiling() {
	((HAVE_TRAFGEN)) || {
		printf '   (no trafgen: the kernels'"'"' own ceiling for this path is not measured)\n'
		return 0
	}
	local c line="   the kernels' own ceiling (trafgen floods the target with one SYN; RSTs at the scanner veth;\n    nothing in user space receives):"
	for c in 1 2; do
		run_sampled "$HOLD_SCAN" "$RCV_IF" RXP 100000 "$SECS" "$DIR/run.log" \
			ip netns exec "$NS_SCAN" trafgen --dev "$RCV_IF" --conf "$DIR/syn-target.trafgen" --cpus "$c" \
			--no-sock-mem --notouch-irq
		steady_rate || RATE=0
		line+=" $(mpps "$RATE") Mpps on $c CPU$( ((c == 1)) || printf s),"
	done
	printf '%b\n' "${line%,}"
}

# --- pace -------------------------------------------------------------------------------------

bench_pace() {
	printf '\n== pace: mailscan -r R, about %d s each, rate at the silent veth from first to last packet\n' \
		"$PACE_SECS"
	printf '   (counter sampled every 10 ms; cpu s: mailscan'"'"'s CPU time over the whole run, start-up\n'
	printf '    included; steady cpu: the CPUs it used while sending)\n'
	printf '   %-8s %7s %8s %13s %8s %6s %10s  %s\n' asked senders packets achieved error "cpu s" \
		"steady cpu" verdict
	local spec r s n
	for spec in "1000 1" "10000 1" "100000 1" "1000000 1" "1000000 2"; do
		r=${spec% *} s=${spec#* }
		n=$((r * PACE_SECS))
		run_sampled "$HOLD_SILENT" "$SIL_IF" RXP 10000 0 "$DIR/run.log" \
			ip netns exec "$NS_SCAN" "$MS_BIN" syn -r "$r" --senders "$s" -n "$n" -p "$PACE_PORTS" \
			--allow-reserved 198.18.0.0/15 --cooldown 0 -q -o /dev/null \
			-i "$SCAN_IF" -S "$SCAN_ADDR" -G "$SIL_MAC" "$SILENT_RANGE"
		if ((RUN_STOPPED || RUN_RC != 0)) || ! whole_rate; then
			printf '   %-8s %7s run failed (exit %d, %d packets counted)\n' "$r" "$s" "$RUN_RC" "$TOTAL"
			sed 's/^/      | /' "$DIR/run.log" | tail -n 5
			FAILED=1
			continue
		fi
		# The error in hundredths of a percent; PASS within 2 %.
		local asked=$((r * 1000))
		local err=$(((WHOLE_MILLI - asked) * 10000 / asked)) verdict=PASS sign=+
		((err >= 0)) || sign=- err=$((-err))
		((err <= 200)) || verdict=FAIL FAILED=1
		((TOTAL == n)) || verdict+=" (counted $TOTAL of $n)"
		local cpu_c=$((SU[-1] * 100 / TCK))
		printf '   %-8s %7s %8d %13s %7s%% %6s %10s  %s\n' "$r" "$s" "$WHOLE_PKTS" \
			"$((WHOLE_MILLI / 1000)).$(printf '%03d' $((WHOLE_MILLI % 1000)))" \
			"$sign$((err / 100)).$(printf '%02d' $((err % 100)))" "$(cpus "$cpu_c")" \
			"$(cpus "$WIN_CPU")" "$verdict"
	done
}

# --- main -------------------------------------------------------------------------------------

print_env() {
	local cpu rev
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	rev=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || printf unknown)
	[[ -z $(git --no-optional-locks -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null) ]] ||
		rev+="-dirty"
	printf '== mailscan bench: mode %s, prefix %s\n' "$MODE" "$P"
	printf '   kernel   %s\n' "$(uname -sr)"
	printf '   cpu      %s, %s online\n' "${cpu:-unknown}" "$(nproc)"
	local gov
	gov=$(go version -m "$MS_BIN" 2>/dev/null | awk 'NR == 1 { print $2 }') || true
	printf '   mailscan %s%s, %s\n' "$rev" "${gov:+ ($gov)}" "$MS_BIN"
	((HAVE_ZMAP)) && printf '   zmap     %s\n' "$(zmap --version 2>&1 | head -n 1)"
	((HAVE_MASSCAN)) && printf '   masscan  %s\n' "$(masscan --version 2>&1 | grep -m 1 -i 'version' | sed 's/^ *//')"
	((HAVE_TRAFGEN)) && printf '   trafgen  %s\n' "$(trafgen --version 2>&1 | head -n 1)"
	printf '   load     %s (1, 5, 15 min) at the start\n' "$(cut -d ' ' -f 1-3 /proc/loadavg)"
	printf '   nothing pinned by this script; zmap and trafgen pin their own threads/processes to CPUs\n'
	return 0
}

main() {
	need_root
	export PATH=$PATH:/usr/local/go/bin
	"$REPO/scripts/install-deps.sh" bench
	check_tools
	TCK=$(getconf CLK_TCK)
	lock_bench
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	check_stale
	[[ ! -e $DIR || -e $MARKER ]] || [[ -z $(ls -A "$DIR") ]] ||
		die "$DIR exists, is not empty and is not a bench directory; set BENCH_DIR elsewhere"
	mkdir -p "$DIR"
	: >"$MARKER"
	# The tools run here: masscan, for one, may leave a paused.conf in its working directory.
	cd "$DIR"
	mkfifo "$DIR/sleep.fifo"
	exec {SLEEP_FD}<>"$DIR/sleep.fifo"
	: >"$DIR/empty.blocklist"
	find_peers
	build_mailscan
	build_labctl
	if ((HAVE_TRAFGEN)); then
		write_trafgen_cfg "$DIR/syn.trafgen" "$SCAN_MAC" "$SCAN_ADDR" "$SIL_MAC" 198.19.0.1
		write_trafgen_cfg "$DIR/syn-target.trafgen" "$RCV_MAC" "$RCV_ADDR" "$TGT_MAC" 198.18.128.1
	fi
	print_env
	build_lab

	case $MODE in
	send) bench_send && report_send ;;
	recv) bench_recv ;;
	pace) bench_pace ;;
	all)
		bench_send
		report_send
		bench_recv
		bench_pace
		;;
	esac
	if ((FAILED)); then
		printf '\nsome targets were missed (see FAIL above)\n'
		[[ $STRICT != 1 ]] || exit 1
	fi
	return 0
}

main "$@"
