#!/usr/bin/env bash
# mailservers.sh: more real mail servers in the lab's target namespace, each on its own address in
# the open range 198.18.64.0/18 (which reaches the target namespace unfiltered), for the
# fingerprint lab test (cmd/mailscan/fingerprint_lab_linux_test.go).
#
#   scripts/lab/mailservers.sh up      start every server (after `scripts/lab.sh up`)
#   scripts/lab/mailservers.sh down    stop them (lab.sh down also ends every process of the lab)
#   scripts/lab/mailservers.sh list    print "address port protocol server" for every service
#   scripts/lab/mailservers.sh fetch   download and unpack the packages only
#
# Environment: the lab's (LAB_PREFIX, LAB_DIR, LAB_TARGET_NS: `scripts/lab.sh env` prints them);
# MAILSERVERS_ROOT (default /var/cache/mailscan-lab/mailservers) caches the unpacked packages.
#
# Debian's MTAs conflict with the lab's Postfix and its IMAP/POP3 servers with the lab's Dovecot
# (and with each other), so none is installed: `apt-get download` fetches each package and
# `dpkg -x` unpacks it into a directory of its own under MAILSERVERS_ROOT, and each daemon runs
# from there, with a configuration, state and PID file under $LAB_DIR/mailservers, inside the
# target namespace only, never as a system service. Their shared libraries are ordinary packages
# (.ci/run installs them). The daemons that drop privileges need their Debian system users
# (Debian-exim, opensmtpd, opensmtpq, cyrus, courier), which this script adds when missing, as
# the packages' maintainer scripts would.
#
# Dovecot and Postfix listen on every address of the namespace on the standard ports, and Linux
# refuses a specific address on a port a wildcard socket holds: these servers listen on the
# standard port + 10000 (10025, 10110, 10143, 10465, 10587, 10993, 10995), each on its own address.
set -euo pipefail

readonly PROG=${0##*/}
readonly HERE=$(cd "$(dirname "$0")" && pwd)
die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

ROOT=${MAILSERVERS_ROOT:-/var/cache/mailscan-lab/mailservers}
RUN=${LAB_DIR:-}/mailservers

need_lab() {
	[[ -n ${LAB_DIR:-} && -n ${LAB_TARGET_NS:-} ]] || die "set LAB_DIR and LAB_TARGET_NS (scripts/lab.sh env)"
	[[ $EUID -eq 0 ]] || die "must run as root"
}

# Packages unpacked, by the directory they go to (one per server: their files overlap).
declare -A PKGS=(
	[exim]="exim4-daemon-light exim4-base"
	[opensmtpd]="opensmtpd"
	[sendmail]="sendmail-bin sendmail-base sendmail-cf"
	[cyrus]="cyrus-common cyrus-imapd cyrus-pop3d"
	[courier]="courier-base courier-imap courier-pop courier-mta courier-authlib"
	[mailutils]="mailutils-imap4d mailutils-pop3d"
	[perdition]="perdition"
)

# SERVICES: address, port, mailscan protocol, server, in the order the test reports them.
readonly SERVICES="
198.18.64.10 10025 smtp exim
198.18.64.10 10465 smtps exim
198.18.64.11 10025 smtp opensmtpd
198.18.64.12 10025 smtp sendmail
198.18.64.12 10587 submission sendmail
198.18.64.13 10143 imap cyrus
198.18.64.13 10993 imaps cyrus
198.18.64.13 10110 pop3 cyrus
198.18.64.13 10995 pop3s cyrus
198.18.64.14 10143 imap mailutils
198.18.64.14 10110 pop3 mailutils
198.18.64.15 10143 imap courier
198.18.64.15 10110 pop3 courier
198.18.64.15 10025 smtp courier
198.18.64.16 10143 imap perdition
198.18.64.16 10110 pop3 perdition
198.18.64.17 10025 smtp aiosmtpd
"

nsx() { ip netns exec "$LAB_TARGET_NS" "$@"; }

fetch() {
	local dir pkg
	for dir in "${!PKGS[@]}"; do
		[[ -e $ROOT/$dir/.unpacked ]] && continue
		rm -rf "${ROOT:?}/$dir" "$ROOT/debs-$dir"
		mkdir -p "$ROOT/$dir" "$ROOT/debs-$dir"
		# shellcheck disable=SC2086 # the package list splits on purpose
		(cd "$ROOT/debs-$dir" && apt-get download -qq ${PKGS[$dir]} 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
		for pkg in "$ROOT/debs-$dir"/*.deb; do
			[[ -e $pkg ]] || die "apt-get download ${PKGS[$dir]} fetched nothing (run apt-get update?)"
			dpkg -x "$pkg" "$ROOT/$dir"
		done
		rm -rf "$ROOT/debs-$dir"
		touch "$ROOT/$dir/.unpacked"
	done
	/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || die "python3-aiosmtpd is not installed"
}

add_user() {
	local user=$1 group=${2:-}
	id "$user" >/dev/null 2>&1 && return 0
	if [[ -n $group ]]; then
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin -g "$group" "$user"
	else
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group "$user"
	fi
}

# render copies template $1 to $2, replacing @RUN@, @ROOT@ and @LABDIR@.
render() {
	sed -e "s|@RUN@|$RUN|g" -e "s|@ROOT@|$ROOT|g" -e "s|@LABDIR@|$LAB_DIR|g" "$HERE/$1" >"$2"
}

# start runs a daemon in the target namespace in the background, recording its PID in $RUN/$1.pid;
# it gets neither our output nor our descriptors.
start() {
	local name=$1
	shift
	ip netns exec "$LAB_TARGET_NS" "$@" </dev/null >>"$RUN/$name.log" 2>&1 &
	echo $! >"$RUN/$name.pid"
}

libpath() {
	local dir=$1
	printf '%s' "$ROOT/$dir/usr/lib:$ROOT/$dir/usr/lib/x86_64-linux-gnu:$ROOT/$dir/usr/lib/x86_64-linux-gnu/courier-authlib"
}

up() {
	fetch
	down
	mkdir -p "$RUN"
	chmod 0755 "$RUN"
	# Name lookups stay inside the lab: `ip netns exec` gives every daemon started below this
	# resolv.conf instead of the host's, whose resolver is outside 198.18.0.0/15. Its server is the
	# target namespace's own address, where nothing listens: a query fails at once, and no packet
	# is addressed outside the lab.
	mkdir -p "/etc/netns/$LAB_TARGET_NS"
	printf 'nameserver 198.18.1.2\noptions timeout:1 attempts:1\n' >"/etc/netns/$LAB_TARGET_NS/resolv.conf"
	# And the host name is qualified locally: Sendmail sleeps a minute when it cannot qualify it.
	local h
	h=$(hostname)
	printf '127.0.0.1 localhost\n198.18.1.2 %s.lab.mailscan.test %s\n' "$h" "$h" >"/etc/netns/$LAB_TARGET_NS/hosts"
	add_user Debian-exim
	add_user opensmtpd
	add_user opensmtpq
	add_user courier
	add_user cyrus mail
	# Certificates: the lab's, and for Courier the self-signed subject its mkimapdcert makes from
	# the package's imapd.cnf, the default that a fingerprint rule knows.
	cp "$LAB_DIR/cert.pem" "$RUN/cert.pem"
	install -m 0640 -g mail "$LAB_DIR/key.pem" "$RUN/key-mail.pem"
	openssl req -x509 -newkey rsa:2048 -days 365 -nodes \
		-subj '/C=US/ST=NY/L=New York/O=Courier Mail Server/OU=Automatically-generated IMAP SSL key/CN=localhost/emailAddress=postmaster@example.com' \
		-keyout "$RUN/courier.key" -out "$RUN/courier.crt" 2>/dev/null
	cat "$RUN/courier.key" "$RUN/courier.crt" >"$RUN/courier.pem"
	# couriertls runs as the courier group for IMAP and POP3.
	chmod 600 "$RUN/courier.key"
	chgrp courier "$RUN/courier.pem"
	chmod 640 "$RUN/courier.pem"

	# Exim 4.96: the daemon on 10025 (STARTTLS) and 10465 (TLS on connect).
	mkdir -p "$RUN/exim/spool"
	render exim.conf "$RUN/exim/exim.conf"
	install -m 0640 -g Debian-exim "$LAB_DIR/key.pem" "$RUN/exim/key.pem"
	chown -R Debian-exim: "$RUN/exim/spool"
	start exim "$ROOT/exim/usr/sbin/exim4" -C "$RUN/exim/exim.conf" -bdf -oP "$RUN/exim/exim.pid"

	# OpenSMTPD 6.8: its queue is the compiled-in /var/spool/smtpd, its chroot /var/lib/opensmtpd/empty.
	mkdir -p "$RUN/opensmtpd" /var/lib/opensmtpd/empty
	render smtpd.conf "$RUN/opensmtpd/smtpd.conf"
	# OpenSMTPD 6.8's privilege-separated RSA signing fails with OpenSSL 3 ("EVP lib"): an ECDSA
	# certificate of its own.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 365 -nodes \
		-subj /CN=opensmtpd.lab.mailscan.test -keyout "$RUN/opensmtpd/key.pem" -out "$RUN/opensmtpd/cert.pem" 2>/dev/null
	chmod 0600 "$RUN/opensmtpd/key.pem"
	chmod 0644 "$RUN/opensmtpd/smtpd.conf"
	start opensmtpd "$ROOT/opensmtpd/usr/sbin/smtpd" -d -f "$RUN/opensmtpd/smtpd.conf"

	# Sendmail 8.17: sendmail.cf built from Debian's m4 macros.
	mkdir -p "$RUN/sendmail/mqueue"
	chmod 0700 "$RUN/sendmail/mqueue"
	render sendmail.mc "$RUN/sendmail/sendmail.mc"
	printf 'hosts files\n' >"$RUN/sendmail/service.switch"
	m4 "$RUN/sendmail/sendmail.mc" >"$RUN/sendmail/sendmail.cf"
	cp "$ROOT/sendmail/etc/mail/helpfile" "$RUN/sendmail/helpfile"
	start sendmail "$ROOT/sendmail/usr/libexec/sendmail/sendmail" -C "$RUN/sendmail/sendmail.cf" -bD -q0

	# Cyrus IMAP 3.6: the master process with imapd and pop3d, cleartext and TLS.
	mkdir -p "$RUN/cyrus/conf" "$RUN/cyrus/part" "$RUN/cyrus/run" "$RUN/cyrus/sock"
	render imapd.conf "$RUN/cyrus/imapd.conf"
	render cyrus.conf "$RUN/cyrus/cyrus.conf"
	chown -R cyrus:mail "$RUN/cyrus"
	start cyrus env LD_LIBRARY_PATH="$(libpath cyrus)" "$ROOT/cyrus/usr/lib/cyrus/bin/master" \
		-C "$RUN/cyrus/imapd.conf" -M "$RUN/cyrus/cyrus.conf" -p "$RUN/cyrus/run/master.pid" -D

	# GNU Mailutils 3.15: imap4d and pop3d.
	mkdir -p "$RUN/mailutils"
	render imap4d.conf "$RUN/mailutils/imap4d.conf"
	render pop3d.conf "$RUN/mailutils/pop3d.conf"
	start mailutils-imap4d env LD_LIBRARY_PATH="$(libpath mailutils)" "$ROOT/mailutils/usr/sbin/imap4d" \
		--config-file="$RUN/mailutils/imap4d.conf"
	start mailutils-pop3d env LD_LIBRARY_PATH="$(libpath mailutils)" "$ROOT/mailutils/usr/sbin/pop3d" \
		--config-file="$RUN/mailutils/pop3d.conf"

	# Courier 1.0.16: couriertcpd with imaplogin, courierpop3login and courieresmtpd, configured
	# through the environment as Courier's start scripts configure them from /etc/courier.
	local c=$ROOT/courier
	local env=(env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH="$(libpath courier)"
		COURIERTLS="$c/usr/bin/couriertls" TLS_CERTFILE="$RUN/courier.pem" TLS_VERIFYPEER=NONE)
	local tcpd=("$c/usr/sbin/couriertcpd" -address=198.18.64.15 -nodnslookup -noidentlookup -maxprocs=100 -maxperip=100)
	start courier-imapd "${env[@]}" IMAP_STARTTLS=YES \
		IMAP_CAPABILITY="IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE" \
		IMAP_CAPABILITY_TLS="IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE AUTH=PLAIN" \
		"${tcpd[@]}" 10143 "$c/usr/lib/courier/courier/imaplogin" "$c/usr/bin/imapd" Maildir
	start courier-pop3d "${env[@]}" POP3_STARTTLS=YES \
		"${tcpd[@]}" 10110 "$c/usr/lib/courier/courier/courierpop3login" "$c/usr/lib/courier/courier/courierpop3d" Maildir
	start courier-esmtpd "${env[@]}" BOFHCHECKDNS=0 TARPIT=0 ESMTPAUTH="" \
		"${tcpd[@]}" 10025 "$c/usr/sbin/courieresmtpd"

	# perdition 2.2: the IMAP and POP3 proxy (its back end, Cyrus, is never reached: no login).
	mkdir -p "$RUN/perdition"
	: >"$RUN/perdition/perdition.conf"
	local proto port
	for proto in IMAP4:10143 POP3:10110; do
		port=${proto#*:} proto=${proto%:*}
		start "perdition-$proto" env LD_LIBRARY_PATH="$(libpath perdition)" "$ROOT/perdition/usr/sbin/perdition" \
			-f "$RUN/perdition/perdition.conf" --no_daemon --protocol "$proto" \
			--bind_address 198.18.64.16 --listen_port "$port" \
			--map_library "$ROOT/perdition/usr/lib/x86_64-linux-gnu/libperditiondb_gdbm.so.0" \
			--map_library_opt "$RUN/perdition/popmap.db" \
			--outgoing_server 198.18.64.13 --outgoing_port "1$((port - 10000))" \
			--pid_file "$RUN/perdition/$proto.pid" --username nobody --group nogroup --log_facility -
	done

	# aiosmtpd 1.4 (python3-aiosmtpd, an ordinary package: it conflicts with nothing).
	start aiosmtpd /usr/bin/python3 -m aiosmtpd -n -l 198.18.64.17:10025

	wait_listening
}

wait_listening() {
	local tries=200 listening missing addr port proto server
	while :; do
		listening=$(nsx ss -Hltn)
		missing=()
		while read -r addr port proto server; do
			[[ -n $addr ]] || continue
			[[ $listening == *" $addr:$port "* ]] || missing+=("$server:$addr:$port")
		done <<<"$SERVICES"
		((${#missing[@]} == 0)) && return 0
		((tries-- > 0)) || die "not listening: ${missing[*]}; logs in $RUN"
		sleep 0.05
	done
}

down() {
	[[ -d $RUN ]] || { rm -rf "/etc/netns/$LAB_TARGET_NS"; return 0; }
	local f pid pids=()
	for f in "$RUN"/*.pid; do
		[[ -e $f ]] || continue
		pid=$(<"$f")
		# Only a process of ours: it still runs inside the lab's target namespace.
		if [[ $pid =~ ^[0-9]+$ && $(ip netns identify "$pid" 2>/dev/null) == "$LAB_TARGET_NS" ]]; then
			pids+=("$pid")
		fi
		rm -f "$f"
	done
	# Daemons that fork record their own PIDs.
	for f in "$RUN/exim/exim.pid" "$RUN/cyrus/run/master.pid" "$RUN"/perdition/*.pid "$RUN/sendmail/sendmail.pid"; do
		[[ -r $f ]] || continue
		pid=$(head -n1 "$f" | tr -dc 0-9)
		if [[ -n $pid && $(ip netns identify "$pid" 2>/dev/null) == "$LAB_TARGET_NS" ]]; then
			pids+=("$pid")
		fi
	done
	((${#pids[@]})) && kill -TERM "${pids[@]}" 2>/dev/null || true
	# Wait for them to let go of their ports (a restart would otherwise fail to bind).
	local tries=100
	while ((tries-- > 0)); do
		for pid in "${pids[@]}"; do
			[[ -e /proc/$pid ]] && break
			pid=
		done
		[[ -z ${pid:-} ]] && break
		sleep 0.05
	done
	rm -rf "/etc/netns/$LAB_TARGET_NS"
	return 0
}

list() {
	printf '%s\n' "$SERVICES" | sed '/^$/d'
}

case ${1:-} in
up) need_lab && up ;;
down) need_lab && down ;;
list) list ;;
fetch) [[ $EUID -eq 0 ]] || die "must run as root" && fetch ;;
*) die "usage: $PROG up | down | list | fetch" ;;
esac
