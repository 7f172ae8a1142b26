#!/usr/bin/env bash
# install-deps.sh: installs the Debian packages mailscan's lab, tests and benchmarks need, when
# they are missing, without starting a system-wide daemon; silent when everything is there.
#
#   scripts/install-deps.sh [-n] [GROUP...]     (default group: test)
#
#   lab    what scripts/lab.sh needs: namespaces, nftables, the lab's Dovecot and Postfix
#   test   what scripts/test.sh and .ci/run need: the lab's packages and the tools the tests
#          run beside it (a C compiler for -race, tcpdump, the scanners the interop tests read)
#   bench  what scripts/bench.sh needs, with the peers it measures mailscan against
#   -n     say what is missing and what would be run, change nothing
#
# scripts/lab.sh demo, scripts/test.sh, scripts/bench.sh and .ci/run call it. Go itself is not a
# Debian package here: install it from go.dev/dl into /usr/local/go.
#
# Debian's maintainer scripts start what they install: Dovecot and Postfix would run system-wide.
# The lab runs its own instances inside its namespaces, so while installing, a policy-rc.d that
# exits 101 forbids starting any service (unless one is already in place), and Postfix is told
# to configure no system mail (the lab configures its own instance).
set -euo pipefail

readonly PROG=${0##*/}

# THE PACKAGE LIST: one package a line, then the groups that need it ("test" also installs every
# "lab" package: the tests build the lab). A package for the tests (a server, a library, a tool
# they run) is added here and nowhere else. From python3-aiosmtpd on: the interpreters and
# libraries of the fingerprint lab's servers, which scripts/lab/mailservers.sh runs unpacked from
# Debian's packages (they conflict with the lab's Postfix and Dovecot).
readonly PACKAGES='
iproute2            lab bench
nftables            lab bench
ethtool             lab bench
procps              lab bench
util-linux          lab bench
coreutils           lab bench
openssl             lab
ca-certificates     lab test
dovecot-imapd       lab
dovecot-pop3d       lab
postfix             lab
gcc                 test
libc6-dev           test
git                 test
mount               test
tcpdump             test
chromium            test
zmap                test bench
masscan             test bench
nmap                test
python3-aiosmtpd    test
m4                  test
libsasl2-2          test
libwrap0            test
libical3            test
libicu72            test
libjansson4         test
libclamav12         test
libpq5              test
libxapian30         test
libzephyr4          test
libpcre3            test
libcourier-unicode4 test
libgdbm6            test
libidn12            test
libltdl7            test
libgsasl18          test
libmailutils9       test
libmu-dbm9          test
libkyotocabinet16v5 test
libnsl2             test
libunistring2       test
libdb5.3            test
libpopt0            test
libvanessa-adt1     test
libvanessa-logger0  test
libvanessa-socket2  test
libgnutls-dane0     test
libpcre2-8-0        test
libevent-2.1-7      test
liblockfile1        test
jq                  bench
netsniff-ng         bench
'

die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}

dry=0
groups=()
for arg; do
	case $arg in
	-n) dry=1 ;;
	lab | test | bench) groups+=("$arg") ;;
	*) usage ;;
	esac
done
((${#groups[@]})) || groups=(test)

# wanted prints the packages of the groups asked for, in the list's order, each once.
wanted() {
	local pkg rest g want
	while read -r pkg rest; do
		[[ -n $pkg ]] || continue
		want=0
		for g in "${groups[@]}"; do
			[[ " $rest " == *" $g "* ]] && want=1
			[[ $g == test && " $rest " == *" lab "* ]] && want=1
		done
		((want)) && printf '%s\n' "$pkg"
	done <<<"$PACKAGES"
}

# A package counts as present only when dpkg says "installed" (not merely known, or half-configured).
missing=()
while read -r pkg; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	[[ $status == installed ]] || missing+=("$pkg")
done < <(wanted)
((${#missing[@]})) || exit 0

policy=/usr/sbin/policy-rc.d
steps=(
	"printf '#!/bin/sh\\nexit 101\\n' >$policy && chmod +x $policy   (unless one exists; removed after)"
	"echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections"
	"apt-get update -qq"
	"apt-get install -y -qq --no-install-recommends ${missing[*]}"
)
if ((dry)); then
	printf '%s: missing %s\n' "$PROG" "${missing[*]}" >&2
	printf '%s: would run (as root, DEBIAN_FRONTEND=noninteractive):\n' "$PROG" >&2
	printf '  %s\n' "${steps[@]}" >&2
	exit 0
fi
[[ $EUID -eq 0 ]] || die "must run as root to install them; or, as root: ${steps[3]}"
command -v apt-get >/dev/null || die "no apt-get: install ${missing[*]} by hand"

printf '%s: installing %s\n' "$PROG" "${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod +x "$policy"
	trap 'rm -f "$policy"' EXIT
fi
echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
log=$(mktemp)
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
	cat "$log" >&2
	rm -f "$log"
	die "apt-get failed"
fi
rm -f "$log"
