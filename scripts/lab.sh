#!/usr/bin/env bash
# lab.sh: a lab of network namespaces in which mailscan scans real mail servers against a known
# ground truth. This script makes the namespaces, the links and the daemons; the rest lives beside
# it in scripts/lab/: the servers' configurations and the nftables rulesets as templates
# (*.tmpl, @NAME@ replaced by render below), and the Go half (package mailscan/scripts/lab and its
# command labctl): the ground truth's generator, its checker and the servers' readiness check.
# Extra servers join through scripts/lab/servers.d/ (see run_hooks).
#
#   scripts/lab.sh up        build the lab (tears down a previous lab of the same prefix first)
#   scripts/lab.sh down      remove everything the lab made
#   scripts/lab.sh status    what exists, whether the servers run, truth counts, loss counters
#   scripts/lab.sh env       shell-sourceable KEY=VALUE lines for tests and scripts
#   scripts/lab.sh loss PCT  drop PCT % of the packets the router forwards (0 = off)
#   scripts/lab.sh demo      build mailscan, bring the lab up, run a real scan, check it
#
# Environment: LAB_PREFIX (default ms) prefixes every namespace name, LAB_DIR (default
# /run/mailscan-lab-$LAB_PREFIX) holds every file the lab makes, LAB_SEED (default 1) makes the
# ground truth reproducible, LAB_KEEP_ON_FAILURE=1 keeps a half-built lab for debugging. Go
# (/usr/local/go/bin is looked in) builds labctl on `up`.
#
# The target namespace runs one Dovecot (POP3 110, IMAP 143, IMAPS 993, POP3S 995) and one Postfix
# (SMTP 25 with STARTTLS, submission 587 with STARTTLS and SASL AUTH offered before it, SMTPS 465),
# each with its own configuration, state and sockets under LAB_DIR, so labs of different prefixes
# run side by side and nothing system-wide (/etc/postfix/main.cf, /var/spool/postfix) is used.
# Postfix authenticates through a socket of the lab's Dovecot. The Debian packages are installed
# by scripts/install-deps.sh (demo calls it): without configuration and without starting a
# system Dovecot or Postfix.
#
# Topology (every address is in 198.18.0.0/15, RFC 2544; nothing touches the root namespace):
#
#   $P-scan   scan0 198.18.0.2/30 ─┐
#   $P-scan2  scan0 198.18.0.6/30 ─┤                     ┌─ tgt0 198.18.1.2/30  $P-target
#   $P-scan3  scan0 198.18.0.10/30 ┴─ $P-router ─────────┤   AnyIP 198.18.16.0/20 (servers + truth)
#                                      (forwarding,      │   AnyIP 198.18.32.0/28 (every port → 143)
#                                       loss)            │   AnyIP 198.18.64.0/18 (open: test servers)
#                                                        └─ sil0 198.18.2.2/30  $P-silent
#                                                            AnyIP 198.19.0.0/16 (drops everything)
#
# Every veth end has a fixed MAC address, 02:6c:61:62:LL:01 on the router side and :02 on the far
# side (LL = 01, 02, 03 for the scanners, 10 target, 20 silent), and a permanent neighbour entry
# for its peer: no ARP is ever needed, the first replies of a scan are never queued behind address
# resolution, and a scanner's gateway MAC is known (zmap 2.1.1 cannot find it in a namespace:
# give it -G 02:6c:61:62:01:01, or read `ip -n $P-scan neigh show 198.18.0.1`).
# Checksum offload is off on every veth so that frames carry real checksums, as on a wire: a
# packet socket would otherwise see partial checksums on locally generated TCP.
set -euo pipefail

readonly PROG=${0##*/}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=${HERE%/scripts}
readonly HERE REPO
readonly TARGET_RANGE=198.18.16.0/20
readonly PSEUDO_RANGE=198.18.32.0/28
# An open range for throughput and memory measurements of the banner stage: every address and
# port reaches the target namespace unfiltered, where a test starts its own servers (a greeting
# server, a tarpit) on ports Dovecot and Postfix do not use.
readonly SERVICE_RANGE=198.18.64.0/18
readonly SILENT_RANGE=198.19.0.0/16
readonly CLEAR_ALLOWED=198.18.16.0/21
readonly CLEAR_DISABLED=198.18.24.0/21
# PORTS are Dovecot's, SMTP_PORTS Postfix's; ALL_PORTS is both in ascending order, the order of
# the ports of one host in truth.txt.
readonly PORTS=(110 143 993 995)
readonly SMTP_PORTS=(25 465 587)
readonly ALL_PORTS=(25 110 143 465 587 993 995)
readonly NFT_TABLE=mailscan_lab
# The ground truth's shape (200 up hosts, ~1.7 ports each, a blocklist hiding some of them) is
# drawn by labctl gen: scripts/lab/truth.go.

die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

log() {
	printf '%s: %s\n' "$PROG" "$*" >&2
}

usage() {
	cat >&2 <<EOF
usage: $PROG up | down | status | env | loss PCT | demo

  up        build the lab (tears down a previous lab of the same prefix first)
  down      remove the namespaces, the processes and the directory of the lab
  status    show what exists; exit status 1 when the lab is incomplete
  env       print shell-sourceable KEY=VALUE lines
  loss PCT  drop PCT % (0-100, up to two decimals) of the packets the router forwards; 0 = off
  demo      build mailscan, bring the lab up, scan it (syn, banner, report), check the hits

environment: LAB_PREFIX (default ms), LAB_DIR (default /run/mailscan-lab-\$LAB_PREFIX),
             LAB_SEED (default 1), LAB_KEEP_ON_FAILURE=1 (keep a failed lab for debugging)
EOF
	exit 2
}

# --- configuration ----------------------------------------------------------------------------

P=${LAB_PREFIX:-ms}
[[ $P =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$ ]] ||
	die "LAB_PREFIX=$P: want 1-20 characters of [A-Za-z0-9_-], starting with a letter or digit"
LAB_DIR=${LAB_DIR:-/run/mailscan-lab-$P}
# A plain path keeps the env output sourceable without quoting and Dovecot's config unambiguous.
[[ $LAB_DIR =~ ^/[A-Za-z0-9._/-]*$ ]] ||
	die "LAB_DIR=$LAB_DIR: want an absolute path of [A-Za-z0-9._/-]"
LAB_DIR=${LAB_DIR%/}
[[ -n $LAB_DIR ]] || die "LAB_DIR=/: refusing to use the root directory"
SEED=${LAB_SEED:-1}
[[ $SEED =~ ^[0-9]{1,18}$ ]] || die "LAB_SEED=$SEED: want a non-negative integer"

readonly NS_ROUTER=$P-router NS_TARGET=$P-target NS_SILENT=$P-silent
readonly NS_SCANS=("$P-scan" "$P-scan2" "$P-scan3")
readonly ALL_NS=("$NS_ROUTER" "${NS_SCANS[@]}" "$NS_TARGET" "$NS_SILENT")

readonly MARKER=$LAB_DIR/.mailscan-lab
readonly DOVE_DIR=$LAB_DIR/dovecot
readonly DOVE_CONF=$DOVE_DIR/dovecot.conf
readonly DOVE_BASE=$DOVE_DIR/run
readonly DOVE_PID=$DOVE_BASE/master.pid
# Postfix reaches Dovecot's auth service through this socket (smtpd_sasl_type = dovecot).
readonly DOVE_AUTH_SOCKET=$DOVE_BASE/auth-postfix
# Postfix's configuration directory holds only root's files; its queue and data, owned by the
# postfix user, live beside it (postfix-script warns of anything else in the configuration tree).
readonly PF_DIR=$LAB_DIR/postfix
readonly PF_QUEUE=$LAB_DIR/postfix-queue
readonly PF_DATA=$LAB_DIR/postfix-data
readonly PF_PID=$PF_QUEUE/pid/master.pid
readonly LABCTL=$LAB_DIR/labctl

nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

ns_exists() {
	[[ -e /run/netns/$1 ]]
}

# One lab prefix is built, changed or removed by one lab.sh at a time: the lock is per prefix (the
# namespace names are), lives in /run/lock so it outlasts LAB_DIR, and is removed on exit once no
# lab of the prefix exists. A waiter may then hold a lock on the unlinked file, so after flock it
# checks that the path still names the file it locked, and otherwise starts over.
readonly LOCK_FILE=/run/lock/mailscan-lab.$P.lock
LOCK_FD=

lock_lab() {
	mkdir -p "${LOCK_FILE%/*}"
	while :; do
		exec {LOCK_FD}>>"$LOCK_FILE"
		flock -w 120 "$LOCK_FD" ||
			die "lab $P is locked by another lab.sh for over 120 s ($LOCK_FILE; fuser -v shows the holder)"
		if [[ -e $LOCK_FILE && $(stat -c %d:%i "$LOCK_FILE") == $(stat -L -c %d:%i "/dev/fd/$LOCK_FD") ]]; then
			trap release_lock EXIT
			return 0
		fi
		exec {LOCK_FD}>&-
	done
}

release_lock() {
	[[ -n $LOCK_FD ]] || return 0
	local ns
	for ns in "${ALL_NS[@]}"; do
		ns_exists "$ns" && break
		ns=
	done
	[[ -n $ns || -e $MARKER ]] || rm -f -- "$LOCK_FILE"
	exec {LOCK_FD}>&-
	LOCK_FD=
}

# --- prerequisites ----------------------------------------------------------------------------

need_root() {
	[[ $EUID -eq 0 ]] || die "must run as root (network namespaces, nftables, Dovecot, Postfix)"
}

check_tools() {
	local missing=() pkgs=() entry tool pkg
	for entry in ip:iproute2 ss:iproute2 nft:nftables ethtool:ethtool sysctl:procps \
		openssl:openssl dovecot:dovecot-core doveconf:dovecot-core postfix:postfix \
		postconf:postfix flock:util-linux; do
		tool=${entry%%:*} pkg=${entry#*:}
		if ! command -v "$tool" >/dev/null 2>&1; then
			missing+=("$tool")
			[[ " ${pkgs[*]} " == *" $pkg "* ]] || pkgs+=("$pkg")
		fi
	done
	local libexec=/usr/lib/dovecot
	[[ -x $libexec/imap-login ]] || { missing+=(imap-login) && pkgs+=(dovecot-imapd); }
	[[ -x $libexec/pop3-login ]] || { missing+=(pop3-login) && pkgs+=(dovecot-pop3d); }
	((${#missing[@]} == 0)) ||
		die "missing ${missing[*]} (packages ${pkgs[*]}); install them with: sudo $HERE/install-deps.sh lab"
}

# --- teardown ---------------------------------------------------------------------------------

# alive tells whether PID $1 runs. A zombie does not: whoever reaps it (init, here) may take its
# time, and waiting for that made `down` a second slower.
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# wait_gone waits up to $2 seconds for every PID in $1 (space separated) to exit.
wait_gone() {
	local pids=$1 polls=$(($2 * 50)) pid any
	while :; do
		any=0
		for pid in $pids; do
			if alive "$pid"; then any=1 && break; fi
		done
		((any)) || return 0
		((polls-- > 0)) || return 1
		sleep 0.02
	done
}

# stop_dovecot kills the lab's Dovecot master by the PID it recorded, after checking that the PID
# still names a dovecot process inside the lab's target namespace (PIDs get reused). SIGKILL, not
# SIGTERM: Dovecot's orderly shutdown sleeps 1-3 s to let its log process drain, and the lab throws
# its logs away anyway. The children notice their master is gone; kill_ns_procs ends any left.
stop_dovecot() {
	[[ -r $DOVE_PID ]] || return 0
	local pid
	pid=$(<"$DOVE_PID")
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	[[ -r /proc/$pid/comm && $(<"/proc/$pid/comm") == dovecot ]] || return 0
	ns_exists "$NS_TARGET" || return 0
	[[ $(ip netns identify "$pid" 2>/dev/null) == "$NS_TARGET" ]] || return 0
	kill -KILL "$pid" 2>/dev/null || return 0
	wait_gone "$pid" 2 || log "dovecot master $pid survived SIGKILL"
}

# pf_pid prints the PID in Postfix's PID file (which pads it with spaces), or nothing.
pf_pid() {
	local pid=""
	[[ -r $PF_PID ]] && pid=$(<"$PF_PID")
	printf '%s' "${pid//[[:space:]]/}"
}

# stop_postfix ends the lab's Postfix by its master's PID, checked like Dovecot's: Postfix's master
# program inside the lab's target namespace. SIGTERM is quick here: the master passes it to its
# whole process group (every Postfix daemon it started) and exits, with no grace period.
stop_postfix() {
	local pid
	pid=$(pf_pid)
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	[[ -r /proc/$pid/comm && $(<"/proc/$pid/comm") == master ]] || return 0
	[[ $(readlink "/proc/$pid/exe" 2>/dev/null) == */postfix/sbin/master ]] || return 0
	ns_exists "$NS_TARGET" || return 0
	[[ $(ip netns identify "$pid" 2>/dev/null) == "$NS_TARGET" ]] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	wait_gone "$pid" 2 && return 0
	kill -KILL "$pid" 2>/dev/null || return 0
	wait_gone "$pid" 2 || log "postfix master $pid survived SIGKILL"
}

# kill_ns_procs ends the processes still inside a lab namespace (the servers' children, or a scanner
# a test left running): a namespace with a live process outlives `ip netns del`.
kill_ns_procs() {
	local ns=$1 pids
	pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ') || true
	[[ -n ${pids// /} ]] || return 0
	# shellcheck disable=SC2086 # word splitting of the PID list is intended
	kill -TERM $pids 2>/dev/null || true
	if ! wait_gone "$pids" 3; then
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null || true
		wait_gone "$pids" 2 || log "processes $pids in $ns survived SIGKILL"
	fi
}

remove_dir() {
	[[ -d $LAB_DIR ]] || return 0
	if [[ -e $MARKER ]] || [[ -z $(ls -A "$LAB_DIR") ]]; then
		rm -rf -- "$LAB_DIR"
	else
		log "not removing $LAB_DIR: it has no $MARKER, so the lab did not make it"
	fi
}

cmd_down() {
	need_root
	[[ -e $MARKER ]] && run_hooks down
	stop_postfix
	stop_dovecot
	local ns
	for ns in "${ALL_NS[@]}"; do
		ns_exists "$ns" || continue
		kill_ns_procs "$ns"
		ip netns del "$ns"
	done
	remove_dir
}

# --- build ------------------------------------------------------------------------------------

# make_ns creates a namespace with IPv6 off (no router solicitations or DAD noise in captures),
# reverse-path filtering off, and lo up. Settings in "default" apply to the veths made later.
make_ns() {
	local ns=$1
	shift
	ip netns add "$ns"
	# -e: a kernel booted without IPv6 has no net.ipv6 keys, and needs none of them.
	nsx "$ns" sysctl -q -e -w \
		net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 "$@"
	ip -n "$ns" link set lo up
}

# link_router connects the router to namespace $2: router side $1 with $4, far side $3 with $5
# (both /30), link number $6 (two hex digits) in their MAC addresses.
link_router() {
	local rif=$1 ns=$2 pif=$3 raddr=$4 paddr=$5 id=$6
	local rmac=02:6c:61:62:$id:01 pmac=02:6c:61:62:$id:02
	ip -n "$NS_ROUTER" link add "$rif" address "$rmac" type veth \
		peer name "$pif" address "$pmac" netns "$ns"
	nsx "$NS_ROUTER" ethtool -K "$rif" tx off >/dev/null 2>&1 ||
		die "ethtool -K $rif tx off failed in $NS_ROUTER"
	nsx "$ns" ethtool -K "$pif" tx off >/dev/null 2>&1 ||
		die "ethtool -K $pif tx off failed in $ns"
	ip -n "$NS_ROUTER" addr add "$raddr/30" dev "$rif"
	ip -n "$ns" addr add "$paddr/30" dev "$pif"
	ip -n "$NS_ROUTER" link set "$rif" up
	ip -n "$ns" link set "$pif" up
	ip -n "$NS_ROUTER" neigh replace "$paddr" lladdr "$pmac" dev "$rif" nud permanent
	ip -n "$ns" neigh replace "$raddr" lladdr "$rmac" dev "$pif" nud permanent
	ip -n "$ns" route add default via "$raddr" dev "$pif"
}

build_network() {
	make_ns "$NS_ROUTER" net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
	local k ns
	for k in 1 2 3; do
		ns=${NS_SCANS[k - 1]}
		make_ns "$ns"
		local rif=r-scan
		((k == 1)) || rif=r-scan$k
		link_router "$rif" "$ns" scan0 "198.18.0.$((4 * k - 3))" "198.18.0.$((4 * k - 2))" "0$k"
	done
	make_ns "$NS_TARGET" net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=8192 \
		net.ipv4.tcp_syncookies=1
	link_router r-tgt "$NS_TARGET" tgt0 198.18.1.1 198.18.1.2 10
	make_ns "$NS_SILENT"
	link_router r-sil "$NS_SILENT" sil0 198.18.2.1 198.18.2.2 20

	ip -n "$NS_TARGET" route add local "$TARGET_RANGE" dev lo
	ip -n "$NS_TARGET" route add local "$PSEUDO_RANGE" dev lo
	ip -n "$NS_TARGET" route add local "$SERVICE_RANGE" dev lo
	ip -n "$NS_SILENT" route add local "$SILENT_RANGE" dev lo
	ip -n "$NS_ROUTER" route add "$TARGET_RANGE" via 198.18.1.2 dev r-tgt
	ip -n "$NS_ROUTER" route add "$PSEUDO_RANGE" via 198.18.1.2 dev r-tgt
	ip -n "$NS_ROUTER" route add "$SERVICE_RANGE" via 198.18.1.2 dev r-tgt
	ip -n "$NS_ROUTER" route add "$SILENT_RANGE" via 198.18.2.2 dev r-sil
}

# --- ground truth and configuration -----------------------------------------------------------

# need_go puts Go on the PATH (sudo resets it; /usr/local/go is Go's standard place) or fails.
need_go() {
	[[ -x /usr/local/go/bin/go ]] && PATH=$PATH:/usr/local/go/bin
	command -v go >/dev/null || die "go is needed (https://go.dev/dl, into /usr/local/go)"
}

# build_labctl builds the lab's Go half (scripts/lab/labctl: the ground truth, its checker and
# the servers' readiness check) into LAB_DIR.
build_labctl() {
	need_go
	(cd "$REPO" && go build -o "$LABCTL" ./scripts/lab/labctl) || die "go build ./scripts/lab/labctl failed"
}

# gen_truth draws the ground truth of LAB_SEED into LAB_DIR (truth.txt, up.txt, blocklist.txt,
# pseudo.txt, cleartext.txt, and nft/truth.nft: the sets the target's ruleset answers by); see
# scripts/lab/truth.go for how.
gen_truth() {
	local counts
	counts=$("$LABCTL" gen -dir "$LAB_DIR" -prefix "$P" -seed "$SEED" -target "$TARGET_RANGE" \
		-pseudo "$PSEUDO_RANGE" -clear-allowed "$CLEAR_ALLOWED" -clear-disabled "$CLEAR_DISABLED" \
		-dovecot-ports "$(IFS=,; echo "${PORTS[*]}")" -smtp-ports "$(IFS=,; echo "${SMTP_PORTS[*]}")") ||
		die "labctl gen failed"
	read -r TRUTH_HOSTS TRUTH_PAIRS <<<"$counts"
}

# render writes template scripts/lab/$1 to $2 with every @NAME@ replaced by the lab's value.
# Every value is a plain word or path (LAB_PREFIX and LAB_DIR are validated above), safe in sed.
render() {
	local dh=""
	[[ -r /usr/share/dovecot/dh.pem ]] && dh="ssl_dh = </usr/share/dovecot/dh.pem"
	sed -e "s|@P@|$P|g" -e "s|@LAB_DIR@|$LAB_DIR|g" -e "s|@NS_TARGET@|$NS_TARGET|g" \
		-e "s|@NFT_TABLE@|$NFT_TABLE|g" -e "s|@TARGET_RANGE@|$TARGET_RANGE|g" \
		-e "s|@PSEUDO_RANGE@|$PSEUDO_RANGE|g" -e "s|@SERVICE_RANGE@|$SERVICE_RANGE|g" \
		-e "s|@CLEAR_ALLOWED@|$CLEAR_ALLOWED|g" -e "s|@CLEAR_DISABLED@|$CLEAR_DISABLED|g" \
		-e "s|@DOVE_DIR@|$DOVE_DIR|g" -e "s|@DOVE_BASE@|$DOVE_BASE|g" -e "s|@DOVE_SSL_DH@|$dh|g" \
		-e "s|@DOVE_AUTH_SOCKET@|$DOVE_AUTH_SOCKET|g" -e "s|@DOVE_AUTH_SOCKET_NAME@|${DOVE_AUTH_SOCKET##*/}|g" \
		-e "s|@PF_DIR@|$PF_DIR|g" -e "s|@PF_QUEUE@|$PF_QUEUE|g" -e "s|@PF_DATA@|$PF_DATA|g" \
		"$HERE/lab/$1" >"$2" || die "cannot render $HERE/lab/$1"
	local left
	left=$(grep -o '@[A-Z_]*@' "$2" | sort -u | tr '\n' ' ') || true
	[[ -z $left ]] || die "$2: no value for $left(from $HERE/lab/$1)"
}

# load_nft gives the target, router and silent namespaces their rulesets (scripts/lab/*.nft.tmpl).
load_nft() {
	local ns
	mkdir -p "$LAB_DIR/nft"
	for ns in target router silent; do
		render "$ns.nft.tmpl" "$LAB_DIR/nft/$ns.nft"
	done
	nsx "$NS_TARGET" nft -f "$LAB_DIR/nft/target.nft"
	nsx "$NS_ROUTER" nft -f "$LAB_DIR/nft/router.nft"
	nsx "$NS_SILENT" nft -f "$LAB_DIR/nft/silent.nft"
	printf '0\n' >"$LAB_DIR/loss"
}

# --- Dovecot ----------------------------------------------------------------------------------

make_cert() {
	openssl req -x509 -newkey rsa:2048 -days 397 -nodes -subj /CN=mail.lab.mailscan.test \
		-addext subjectAltName=DNS:mail.lab.mailscan.test \
		-keyout "$LAB_DIR/key.pem" -out "$LAB_DIR/cert.pem" 2>/dev/null ||
		die "openssl req failed to make the certificate"
	chmod 600 "$LAB_DIR/key.pem"
	local fp
	fp=$(openssl x509 -in "$LAB_DIR/cert.pem" -noout -fingerprint -sha256)
	fp=${fp#*=}
	fp=${fp//:/}
	printf '%s\n' "${fp,,}" >"$LAB_DIR/cert.sha256"
}

write_dovecot_conf() {
	mkdir -p "$DOVE_DIR/state" "$DOVE_DIR/mail"
	printf 'lab:{PLAIN}lab-dummy-password:65534:65534::%s/mail/lab::\n' "$DOVE_DIR" \
		>"$DOVE_DIR/users"
	render dovecot.conf.tmpl "$DOVE_CONF"
}

# check_dovecot_conf proves the cleartext policy really applies per local address before Dovecot
# starts: a typo in a local block would otherwise silently give one policy everywhere.
check_dovecot_conf() {
	local want addr got
	for want in "198.18.17.1 no" "198.18.16.0 no" "198.18.31.255 yes" "198.18.25.1 yes"; do
		addr=${want% *}
		got=$(doveconf -c "$DOVE_CONF" -f "local=$addr" -h disable_plaintext_auth 2>&1) ||
			die "doveconf -c $DOVE_CONF rejected the configuration: $got"
		[[ $got == "${want#* }" ]] ||
			die "doveconf: disable_plaintext_auth for local=$addr is '$got', want '${want#* }'"
	done
}

start_dovecot() {
	local nofile
	nofile=$(ulimit -Hn)
	[[ $nofile == unlimited ]] && nofile=65536
	((nofile <= 65536)) || nofile=65536
	# shellcheck disable=SC2016 # $1 and $2 are the inner shell's arguments
	# The daemon must not inherit our stdout/stderr: a caller reading them through a pipe (a Go
	# test's exec.Command(...).Output()) would otherwise wait for an EOF that never comes.
	# Nor our lock: a daemon holding it would block every later up or down of this prefix.
	nsx "$NS_TARGET" bash -c 'ulimit -n "$1" && exec dovecot -c "$2"' _ "$nofile" "$DOVE_CONF" \
		</dev/null >>"$DOVE_DIR/start.log" 2>&1 {LOCK_FD}>&- ||
		die "dovecot failed to start: $(tail -n 5 "$DOVE_DIR/start.log" "$DOVE_DIR/dovecot.log" 2>/dev/null)"
	local tries=100
	until [[ -s $DOVE_PID ]]; do
		((tries-- > 0)) || die "dovecot wrote no $DOVE_PID; see $DOVE_DIR/dovecot.log"
		sleep 0.05
	done
}

# --- Postfix ----------------------------------------------------------------------------------

# write_postfix_conf writes a Postfix instance of its own: configuration, queue and data under
# LAB_DIR, no chroot (the queue holds no copies of system files), its log in a file of its own, no
# DNS and no delivery (the lab's network reaches nothing else, and the lab accepts no mail).
write_postfix_conf() {
	# postfix start makes the data directory and everything inside the queue directory, with the
	# owners and modes of /etc/postfix/postfix-files, but not the queue directory itself.
	mkdir -p "$PF_DIR" "$PF_QUEUE"
	render postfix-main.cf.tmpl "$PF_DIR/main.cf"
	render postfix-master.cf.tmpl "$PF_DIR/master.cf"
	# Postfix will not read a main.cf modified within the last two seconds (it might be half
	# written): every Postfix program would doze in 300 ms steps until it is that old.
	touch -d '1 minute ago' "$PF_DIR/main.cf" "$PF_DIR/master.cf"
}

start_postfix() {
	# As for Dovecot: the daemon gets neither our output nor our lock.
	nsx "$NS_TARGET" postfix -c "$PF_DIR" start \
		</dev/null >>"$PF_DIR/start.log" 2>&1 {LOCK_FD}>&- ||
		die "postfix failed to start: $(tail -n 5 "$PF_DIR/start.log" "$PF_DIR/maillog" 2>/dev/null)"
	# postfix start returns once the master has initialised, so its PID file is there already.
	[[ -s $PF_PID ]] || die "postfix wrote no $PF_PID; see $PF_DIR/maillog"
}

# wait_ready waits until the servers answer as configured, seen from the first scanner through
# the router: a greeting on both edges of the range from Dovecot, and from Postfix STARTTLS on 25
# and 587 with AUTH on 587 only (labctl ready says what it saw otherwise).
wait_ready() {
	nsx "${NS_SCANS[0]}" "$LABCTL" ready -timeout 10s 198.18.16.0:143 198.18.31.255:110 \
		198.18.16.0:25 198.18.31.255:587 ||
		die "the lab's servers are not ready; see $DOVE_DIR/dovecot.log and $PF_DIR/maillog"
}

# --- extra servers ----------------------------------------------------------------------------

# EXTRA SERVERS HOOK. Every executable scripts/lab/servers.d/*.sh is run, in name order, with
# "up" once the lab's own servers answer and with "down" when the lab is removed (before its
# namespaces go), with the `lab.sh env` variables in its environment. A hook starts its servers
# inside $LAB_TARGET_NS only, on addresses of $LAB_SERVICE_RANGE, keeps its files under $LAB_DIR,
# and exits non-zero if they do not start: up then fails. See scripts/lab/servers.d/README.md.
run_hooks() {
	local hook rc=0
	for hook in "$HERE"/lab/servers.d/*.sh; do
		[[ -x $hook ]] || continue
		# shellcheck disable=SC2046 # cmd_env's lines are KEY=VALUE words
		env $(cmd_env) "$hook" "$1" </dev/null {LOCK_FD}>&- || {
			rc=$?
			log "$hook $1 failed (exit $rc)"
			[[ $1 == down ]] || return "$rc"
		}
	done
	return 0
}

# --- commands ---------------------------------------------------------------------------------

on_up_failure() {
	local rc=$?
	((rc == 0)) && return
	if [[ ${LAB_KEEP_ON_FAILURE:-0} == 1 ]]; then
		log "up failed; keeping the half-built lab (LAB_KEEP_ON_FAILURE=1): '$PROG down' removes it"
	else
		log "up failed; tearing the half-built lab down (LAB_KEEP_ON_FAILURE=1 keeps it)"
		cmd_down || true
	fi
	release_lock
	exit "$rc"
}

cmd_up() {
	need_root
	check_tools
	# Dovecot's unix sockets live in base_dir, and socket paths are limited to 108 bytes (Postfix's,
	# in $PF_QUEUE/private, are at most 21 bytes longer than $DOVE_BASE: within the limit too).
	((${#DOVE_BASE} <= 60)) ||
		die "LAB_DIR=$LAB_DIR is too long: Dovecot's socket paths under $DOVE_BASE would exceed 108 bytes"
	if [[ -d $LAB_DIR && ! -e $MARKER && -n $(ls -A "$LAB_DIR") ]]; then
		die "$LAB_DIR exists, is not empty and is not a lab directory; set LAB_DIR elsewhere"
	fi
	cmd_down
	trap on_up_failure EXIT
	mkdir -p "$LAB_DIR"
	chmod 0755 "$LAB_DIR"
	printf 'prefix=%s seed=%s\n' "$P" "$SEED" >"$MARKER"

	build_network
	build_labctl
	gen_truth
	load_nft
	make_cert
	write_dovecot_conf
	check_dovecot_conf
	start_dovecot
	write_postfix_conf
	start_postfix
	wait_ready
	run_hooks up
	# Start the router's counters from zero: the readiness check above went through it.
	nsx "$NS_ROUTER" nft reset counters table inet "$NFT_TABLE" >/dev/null
	trap release_lock EXIT
	log "lab $P up in $LAB_DIR: $TRUTH_HOSTS up hosts, $TRUTH_PAIRS open pairs," \
		"dovecot pid $(<"$DOVE_PID"), postfix pid $(pf_pid)"
}

cmd_env() {
	local fp=""
	[[ -r $LAB_DIR/cert.sha256 ]] && fp=$(<"$LAB_DIR/cert.sha256")
	local ports smtp_ports all_ports
	ports=$(
		IFS=,
		printf '%s' "${PORTS[*]}"
	)
	smtp_ports=$(
		IFS=,
		printf '%s' "${SMTP_PORTS[*]}"
	)
	all_ports=$(
		IFS=,
		printf '%s' "${ALL_PORTS[*]}"
	)
	# Every value is a plain word (LAB_PREFIX and LAB_DIR are validated above): no quoting needed.
	printf '%s=%s\n' \
		LAB_PREFIX "$P" \
		LAB_DIR "$LAB_DIR" \
		LAB_SCAN_NS "${NS_SCANS[0]}" \
		LAB_SCAN_NS2 "${NS_SCANS[1]}" \
		LAB_SCAN_NS3 "${NS_SCANS[2]}" \
		LAB_ROUTER_NS "$NS_ROUTER" \
		LAB_TARGET_NS "$NS_TARGET" \
		LAB_SILENT_NS "$NS_SILENT" \
		LAB_SCAN_IF scan0 \
		LAB_TARGET_IF tgt0 \
		LAB_SILENT_IF sil0 \
		LAB_SCAN_ADDR 198.18.0.2 \
		LAB_GATEWAY 198.18.0.1 \
		LAB_TARGET_RANGE "$TARGET_RANGE" \
		LAB_PSEUDO_RANGE "$PSEUDO_RANGE" \
		LAB_SERVICE_RANGE "$SERVICE_RANGE" \
		LAB_SILENT_RANGE "$SILENT_RANGE" \
		LAB_PORTS "$ports" \
		LAB_SMTP_PORTS "$smtp_ports" \
		LAB_ALL_PORTS "$all_ports" \
		LAB_TRUTH "$LAB_DIR/truth.txt" \
		LAB_UP "$LAB_DIR/up.txt" \
		LAB_BLOCKLIST "$LAB_DIR/blocklist.txt" \
		LAB_PSEUDO "$LAB_DIR/pseudo.txt" \
		LAB_CERT "$LAB_DIR/cert.pem" \
		LAB_CERT_SHA256 "$fp"
}

# counter_value prints the packet count of a named nftables counter in namespace $1.
counter_value() {
	local out
	out=$(nsx "$1" nft list counter inet "$NFT_TABLE" "$2" 2>/dev/null) || {
		printf '?'
		return
	}
	out=${out#*packets }
	printf '%s' "${out%% *}"
}

# server_status prints whether the server $1 runs in the target namespace (process name $2, PID
# $3) and which of the ports $4... it listens on; it fails unless it runs and listens on them all.
server_status() {
	local name=$1 comm=$2 pid=$3 port listening ports=""
	shift 3
	if [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/comm && $(<"/proc/$pid/comm") == "$comm" ]] &&
		ns_exists "$NS_TARGET"; then
		listening=$(nsx "$NS_TARGET" ss -Hltn)
		for port; do
			[[ $listening == *":$port "* ]] && ports+=" $port"
		done
		printf '%s: running, pid %s, listening on%s\n' "$name" "$pid" "$ports"
		[[ $ports == " $*" ]]
	else
		printf '%s: not running\n' "$name"
		return 1
	fi
}

cmd_status() {
	need_root
	local ok=1 ns line
	printf 'lab %s: dir %s, seed %s\n' "$P" "$LAB_DIR" \
		"$(sed -n 's/.*seed=\([0-9]*\).*/\1/p' "$MARKER" 2>/dev/null || true)"
	line="namespaces:"
	for ns in "${ALL_NS[@]}"; do
		if ns_exists "$ns"; then line+=" $ns"; else line+=" $ns(missing)" ok=0; fi
	done
	printf '%s\n' "$line"
	local pid=""
	[[ -r $DOVE_PID ]] && pid=$(<"$DOVE_PID")
	server_status dovecot dovecot "$pid" "${PORTS[@]}" || ok=0
	server_status postfix master "$(pf_pid)" "${SMTP_PORTS[@]}" || ok=0
	if [[ -r $LAB_DIR/truth.txt && -r $LAB_DIR/up.txt ]]; then
		local per="" p
		for p in "${ALL_PORTS[@]}"; do
			per+=" $p:$(grep -c ":$p\$" "$LAB_DIR/truth.txt" || true)"
		done
		printf 'truth: %s up hosts, %s open pairs (%s ), %s pseudo addresses, %s blocklist entries\n' \
			"$(wc -l <"$LAB_DIR/up.txt")" "$(wc -l <"$LAB_DIR/truth.txt")" "${per# }" \
			"$(wc -l <"$LAB_DIR/pseudo.txt")" \
			"$(grep -cv '^[[:space:]]*\(#\|$\)' "$LAB_DIR/blocklist.txt" || true)"
	else
		printf 'truth: missing\n'
		ok=0
	fi
	if ns_exists "$NS_ROUTER"; then
		printf 'loss: %s%% (router forwarded %s packets, dropped %s)\n' \
			"$(cat "$LAB_DIR/loss" 2>/dev/null || printf '?')" \
			"$(counter_value "$NS_ROUTER" forwarded)" "$(counter_value "$NS_ROUTER" lost)"
	fi
	if ns_exists "$NS_SILENT"; then
		printf 'silent: dropped %s packets\n' "$(counter_value "$NS_SILENT" dropped)"
	fi
	((ok))
}

cmd_loss() {
	need_root
	local pct=${1:-}
	[[ $pct =~ ^([0-9]{1,3})(\.([0-9]{1,2}))?$ ]] ||
		die "loss $pct: want a percentage 0-100 with at most two decimals"
	local frac=${BASH_REMATCH[3]:-0}
	[[ ${#frac} == 1 ]] && frac+=0
	# Basis points: numgen draws from [0, 10000).
	local bp=$((10#${BASH_REMATCH[1]} * 100 + 10#$frac))
	((bp <= 10000)) || die "loss $pct: more than 100"
	ns_exists "$NS_ROUTER" || die "no lab $P: $NS_ROUTER does not exist (run '$PROG up')"
	local rules="flush chain inet $NFT_TABLE forward
reset counter inet $NFT_TABLE forwarded
reset counter inet $NFT_TABLE lost
add rule inet $NFT_TABLE forward counter name forwarded"
	if ((bp == 10000)); then
		rules+="
add rule inet $NFT_TABLE forward counter name lost drop"
	elif ((bp > 0)); then
		rules+="
add rule inet $NFT_TABLE forward numgen random mod 10000 < $bp counter name lost drop"
	fi
	nsx "$NS_ROUTER" nft -f - <<<"$rules" >/dev/null
	printf '%s\n' "$pct" >"$LAB_DIR/loss"
}

# cmd_demo builds mailscan, brings the lab up, runs a SYN scan of the target range and the
# banner stage on its hits, prints the report, and checks the hits against the ground truth
# (labctl check: the truth's open pairs outside the blocklist, each found once, nothing else).
# The lab stays up for exploring; `lab.sh down` removes it.
cmd_demo() {
	local bin out ports rc=0
	need_go
	cmd_up
	bin=$LAB_DIR/mailscan
	out=$LAB_DIR/demo
	mkdir -p "$out"
	log "building mailscan"
	(cd "$REPO" && go build -o "$bin" ./cmd/mailscan) || die "go build failed"
	local scan=(ip netns exec "${NS_SCANS[0]}" "$bin")
	ports=$(IFS=,; echo "${ALL_PORTS[*]}")
	printf '\n$ mailscan syn -p %s -r 20000 --allow-reserved 198.18.0.0/15 -b %s -o %s %s\n' \
		"$ports" "$LAB_DIR/blocklist.txt" "$out/hits.csv" "$TARGET_RANGE"
	"${scan[@]}" syn -p "$ports" -r 20000 --cooldown 3 --allow-reserved 198.18.0.0/15 \
		-b "$LAB_DIR/blocklist.txt" -o "$out/hits.csv" --metadata "$out/syn-metadata.json" "$TARGET_RANGE"
	printf '\n$ mailscan banner --allow-reserved 198.18.0.0/15 -b %s -i %s -o %s\n' "$LAB_DIR/blocklist.txt" "$out/hits.csv" "$out/results.jsonl"
	"${scan[@]}" banner --allow-reserved 198.18.0.0/15 -b "$LAB_DIR/blocklist.txt" -i "$out/hits.csv" -o "$out/results.jsonl" --metadata "$out/banner-metadata.json"
	if "$bin" help report >/dev/null 2>&1; then
		printf '\n$ mailscan report -i %s\n' "$out/results.jsonl"
		"$bin" report -i "$out/results.jsonl"
	fi
	printf '\n'
	"$LABCTL" check -dir "$LAB_DIR" -ports "$ports" "$out/hits.csv" || rc=$?
	local env=
	[[ $P == ms ]] || env="LAB_PREFIX=$P "
	printf 'outputs in %s; the lab stays up: explore it with ip netns exec %s ..., remove it with: sudo %s%s down\n' \
		"$out" "${NS_SCANS[0]}" "$env" "$0"
	((rc == 0)) || die "the scan does not match the ground truth"
}

main() {
	(($# >= 1)) || usage
	local cmd=$1
	shift
	case $cmd in
	up)
		(($# == 0)) || usage
		need_root
		lock_lab
		cmd_up
		;;
	down)
		(($# == 0)) || usage
		need_root
		lock_lab
		cmd_down
		;;
	status | env)
		(($# == 0)) || usage
		"cmd_$cmd"
		;;
	demo)
		(($# == 0)) || usage
		need_root
		"$HERE/install-deps.sh" lab
		lock_lab
		cmd_demo
		;;
	loss)
		(($# == 1)) || usage
		need_root
		lock_lab
		cmd_loss "$1"
		;;
	*) usage ;;
	esac
}

main "$@"
