#!/usr/bin/env bash
# ipv6.sh: the IPv6 side of the mailscan lab, added to a lab that scripts/lab.sh has built.
#
#   scripts/lab/ipv6.sh up     turn IPv6 on in the lab's namespaces, route 2001:db8::/32 through the
#                              router, give the target namespace its IPv6 ranges and ground truth
#   scripts/lab/ipv6.sh down   remove what up added (lab.sh down removes it anyway, with the namespaces)
#   scripts/lab/ipv6.sh env    shell-sourceable LAB6_KEY=VALUE lines for tests and scripts
#
# Environment: LAB_PREFIX and LAB_DIR as for lab.sh (the values `lab.sh env` prints are used).
#
# Every address is in 2001:db8::/32, the documentation prefix (RFC 3849), inside the lab's
# namespaces; nothing touches the root namespace. Scanning it needs --allow-reserved 2001:db8::/32.
#
#   $P-scan   scan0 2001:db8:0:1::2/64 ─┐
#   $P-scan2  scan0 2001:db8:0:2::2/64 ─┤                ┌─ tgt0 2001:db8:0:10::2/64  $P-target
#   $P-scan3  scan0 2001:db8:0:3::2/64 ┴─ $P-router ─────┤   AnyIP 2001:db8:16::/116 (servers + truth)
#                                         (forwarding)   │   AnyIP 2001:db8:32::/124 (every port → 143)
#                                                        └─ sil0 2001:db8:0:20::2/64  $P-silent
#                                                            AnyIP 2001:db8:19::/64 (drops everything)
#
# The IPv6 target range mirrors the IPv4 one: address i of 198.18.16.0/20 is 2001:db8:16::i (hex),
# so the IPv6 ground truth (truth6.txt), the IPv6 blocklist (blocklist6.txt, each IPv4 entry of the
# lab's blocklist at the same place, its prefix length plus 96) and Dovecot's cleartext halves
# (2001:db8:16::/117 allowed, 2001:db8:16::800/117 disabled) are the IPv4 ones moved over, and a
# banner grab of an IPv6 hit must give what the grab of its IPv4 twin gives. The router-side
# address of each link is ::1, the far side ::2; every neighbour entry is permanent (the router's
# and the silent namespace's nftables drop ICMPv6 neighbour discovery along with everything else),
# and there are no link-local addresses, router solicitations or duplicate address detection: the
# links carry what a test sends.
#
# Dovecot and Postfix must listen on IPv6 too: lab.sh configures `listen = *, ::` and the two IPv6
# `local` blocks for Dovecot and `inet_protocols = all` for Postfix; up checks a greeting of each.
set -euo pipefail

readonly PROG=ipv6.sh
readonly HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly LAB_SH=$HERE/../lab.sh

readonly TARGET6=2001:db8:16::/116
readonly PSEUDO6=2001:db8:32::/124
readonly SILENT6=2001:db8:19::/64
readonly CLEAR_ALLOWED6=2001:db8:16::/117
readonly CLEAR_DISABLED6=2001:db8:16::800/117
readonly ALLOW_RESERVED6=2001:db8::/32
readonly NFT_TABLE6=mailscan_lab6

die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

usage() {
	printf 'usage: %s up | down | env\n' "$PROG" >&2
	exit 2
}

# The lab's own values, from lab.sh env: namespaces, directory, files.
eval "$("$LAB_SH" env | sed -n 's/^\(LAB_[A-Z0-9_]*\)=\([A-Za-z0-9._/:,-]*\)$/\1=\2/p')"
[[ -n ${LAB_DIR:-} && -n ${LAB_ROUTER_NS:-} ]] || die "lab.sh env printed no lab"
readonly DIR6=$LAB_DIR/ipv6
readonly SCAN_NS=("$LAB_SCAN_NS" "$LAB_SCAN_NS2" "$LAB_SCAN_NS3")

nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

ns_exists() { [[ -e /run/netns/$1 ]]; }

# mac_of prints the Ethernet address of interface $2 in namespace $1.
mac_of() {
	local out
	out=$(ip -n "$1" -o link show dev "$2") || die "no interface $2 in $1"
	out=${out#*link/ether }
	printf '%s' "${out%% *}"
}

# router_if prints the name of the router's end of the veth whose far end is $2 in namespace $1.
router_if() {
	local out idx line
	out=$(ip -n "$1" -o link show dev "$2") || die "no interface $2 in $1"
	[[ $out =~ @if([0-9]+): ]] || die "$2 in $1 is not a veth end"
	idx=${BASH_REMATCH[1]}
	while read -r line; do
		if [[ $line =~ ^$idx:\ ([^:@]+)[@:] ]]; then
			printf '%s' "${BASH_REMATCH[1]}"
			return
		fi
	done < <(ip -n "$LAB_ROUTER_NS" -o link show)
	die "no router interface $idx for $2 in $1"
}

# enable6 turns IPv6 on in namespace $1 for lo and the interfaces $3...; $2 is 1 for the router.
enable6() {
	local ns=$1 router=$2 ifname
	shift 2
	local args=(net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
		net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
		net.ipv6.conf.default.addr_gen_mode=1 net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.lo.disable_ipv6=0)
	for ifname; do
		args+=("net.ipv6.conf.$ifname.accept_dad=0" "net.ipv6.conf.$ifname.accept_ra=0"
			"net.ipv6.conf.$ifname.router_solicitations=0" "net.ipv6.conf.$ifname.addr_gen_mode=1"
			"net.ipv6.conf.$ifname.disable_ipv6=0")
	done
	((router)) && args+=(net.ipv6.conf.all.forwarding=1)
	nsx "$ns" sysctl -q -w "${args[@]}" >/dev/null
	# addr_gen_mode 1 came after the interfaces were up: drop any link-local address made before.
	for ifname; do
		ip -n "$ns" -6 addr flush dev "$ifname" scope link 2>/dev/null || true
	done
}

# link6 numbers the link between namespace $1 (interface $2) and the router 2001:db8:0:$3::/64,
# with permanent neighbour entries both ways and a default route in $1.
link6() {
	local ns=$1 pif=$2 net=2001:db8:0:$3 rif pmac rmac
	rif=$(router_if "$ns" "$pif")
	pmac=$(mac_of "$ns" "$pif")
	rmac=$(mac_of "$LAB_ROUTER_NS" "$rif")
	ip -n "$LAB_ROUTER_NS" -6 addr replace "$net::1/64" dev "$rif" nodad
	ip -n "$ns" -6 addr replace "$net::2/64" dev "$pif" nodad
	ip -n "$LAB_ROUTER_NS" -6 neigh replace "$net::2" lladdr "$pmac" dev "$rif" nud permanent
	ip -n "$ns" -6 neigh replace "$net::1" lladdr "$rmac" dev "$pif" nud permanent
	ip -n "$ns" -6 route replace default via "$net::1" dev "$pif"
	printf '%s' "$rif"
}

# v4to6 stores in variable $2 the IPv6 twin of $1, an address of the IPv4 target range
# (198.18.16.0/20); no subshell per address.
v4to6() {
	local IFS=. out=$2
	# shellcheck disable=SC2086 # splitting on dots is the point
	set -- $1
	local i=$(((($3 - 16) << 8) | $4))
	# The canonical form (RFC 5952), as mailscan writes it: :: for a zero last group.
	if ((i == 0)); then
		printf -v "$out" '2001:db8:16::'
	else
		printf -v "$out" '2001:db8:16::%x' "$i"
	fi
}

in_target4() {
	local IFS=.
	# shellcheck disable=SC2086
	set -- $1
	(($1 == 198 && $2 == 18 && $3 >= 16 && $3 < 32))
}

# gen6 writes the IPv6 ground truth, up list, blocklist and pseudo-service list from the IPv4 ones.
gen6() {
	local line addr port bits pairs=0 hosts=0
	local -A up=()
	: >"$DIR6/truth6.txt"
	while IFS= read -r line; do
		[[ -n $line ]] || continue
		addr=${line%:*} port=${line##*:}
		in_target4 "$addr" || continue
		v4to6 "$addr" addr
		printf '[%s]:%s\n' "$addr" "$port" >>"$DIR6/truth6.txt"
		up[$addr]=1
		pairs=$((pairs + 1))
	done <"$LAB_TRUTH"
	printf '%s\n' "${!up[@]}" | sort >"$DIR6/up6.txt"
	hosts=${#up[@]}
	{
		printf '# mailscan lab IPv6 exclusion list (ZMap format), LAB_PREFIX=%s: the IPv4 list moved to\n' "$LAB_PREFIX"
		printf '# %s, prefix lengths plus 96. Every part holds up hosts of the IPv6 ground truth.\n\n' "$TARGET6"
		while IFS= read -r line; do
			line=${line%%#*}
			line=${line//[[:space:]]/}
			[[ -n $line ]] || continue
			addr=${line%/*} bits=32
			[[ $line == */* ]] && bits=${line#*/}
			in_target4 "$addr" || continue
			v4to6 "$addr" addr
			printf '%s/%d\n' "$addr" $((96 + bits))
		done <"$LAB_BLOCKLIST"
	} >"$DIR6/blocklist6.txt"
	local i
	printf '2001:db8:32::\n' >"$DIR6/pseudo6.txt"
	for i in $(seq 1 15); do
		printf '2001:db8:32::%x\n' "$i" >>"$DIR6/pseudo6.txt"
	done
	TRUTH_HOSTS=$hosts TRUTH_PAIRS=$pairs
	# The nftables ruleset: the same policy as the IPv4 truth's, for IPv6.
	local ups opens l
	ups=$(sed 's/$/, /' "$DIR6/up6.txt" | tr -d '\n')
	opens=$(sed 's/^\[\(.*\)\]:\([0-9]*\)$/\1 . \2, /' "$DIR6/truth6.txt" | tr -d '\n')
	cat >"$DIR6/target6.nft" <<EOF
table inet $NFT_TABLE6 {
	set up6 {
		type ipv6_addr
		elements = { ${ups%, } }
	}
	set open6 {
		type ipv6_addr . inet_service
		elements = { ${opens%, } }
	}
	chain raw_prerouting {
		type filter hook prerouting priority raw; policy accept;
		ip6 daddr $TARGET6 notrack
	}
	chain raw_output {
		type filter hook output priority raw; policy accept;
		ip6 saddr $TARGET6 notrack
	}
	chain nat_prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip6 daddr $PSEUDO6 tcp dport != 143 redirect to :143
	}
	chain input {
		type filter hook input priority filter; policy accept;
		ip6 daddr $TARGET6 jump truth6
	}
	chain truth6 {
		meta l4proto != tcp drop
		ip6 daddr . tcp dport @open6 accept
		ip6 daddr @up6 reject with tcp reset
		drop
	}
}
EOF
	for l in "$DIR6/truth6.txt" "$DIR6/up6.txt"; do
		[[ -s $l ]] || die "no IPv6 ground truth: $LAB_TRUTH holds no pair of 198.18.16.0/20"
	done
}

# greeting6 prints the first line the server at [$1]:$2 sends, seen from the first scanner.
greeting6() {
	# shellcheck disable=SC2016 # $1 and $2 are the inner shell's arguments
	timeout 5 ip netns exec "${SCAN_NS[0]}" bash -c \
		'exec 3<>"/dev/tcp/$1/$2" && IFS= read -r -t 4 line <&3 && printf "%s" "$line"' _ "$1" "$2" 2>/dev/null
}

cmd_up() {
	[[ $EUID -eq 0 ]] || die "must run as root"
	local ns
	for ns in "$LAB_ROUTER_NS" "${SCAN_NS[@]}" "$LAB_TARGET_NS" "$LAB_SILENT_NS"; do
		ns_exists "$ns" || die "no lab $LAB_PREFIX: $ns does not exist (run lab.sh up first)"
	done
	[[ -r $LAB_TRUTH && -r $LAB_BLOCKLIST ]] || die "no ground truth in $LAB_DIR (run lab.sh up first)"
	mkdir -p "$DIR6"

	local rifs=() k rif
	for k in 1 2 3; do
		enable6 "${SCAN_NS[k - 1]}" 0 "$LAB_SCAN_IF"
	done
	enable6 "$LAB_TARGET_NS" 0 "$LAB_TARGET_IF"
	enable6 "$LAB_SILENT_NS" 0 "$LAB_SILENT_IF"
	for k in 1 2 3; do
		rifs+=("$(router_if "${SCAN_NS[k - 1]}" "$LAB_SCAN_IF")")
	done
	rifs+=("$(router_if "$LAB_TARGET_NS" "$LAB_TARGET_IF")" "$(router_if "$LAB_SILENT_NS" "$LAB_SILENT_IF")")
	enable6 "$LAB_ROUTER_NS" 1 "${rifs[@]}"
	for k in 1 2 3; do
		link6 "${SCAN_NS[k - 1]}" "$LAB_SCAN_IF" "$k" >/dev/null
	done
	rif=$(link6 "$LAB_TARGET_NS" "$LAB_TARGET_IF" 10)
	ip -n "$LAB_ROUTER_NS" -6 route replace "$TARGET6" via 2001:db8:0:10::2 dev "$rif"
	ip -n "$LAB_ROUTER_NS" -6 route replace "$PSEUDO6" via 2001:db8:0:10::2 dev "$rif"
	rif=$(link6 "$LAB_SILENT_NS" "$LAB_SILENT_IF" 20)
	ip -n "$LAB_ROUTER_NS" -6 route replace "$SILENT6" via 2001:db8:0:20::2 dev "$rif"
	ip -n "$LAB_TARGET_NS" -6 route replace local "$TARGET6" dev lo
	ip -n "$LAB_TARGET_NS" -6 route replace local "$PSEUDO6" dev lo
	ip -n "$LAB_SILENT_NS" -6 route replace local "$SILENT6" dev lo

	gen6
	nsx "$LAB_TARGET_NS" nft delete table inet "$NFT_TABLE6" 2>/dev/null || true
	nsx "$LAB_TARGET_NS" nft -f "$DIR6/target6.nft"

	# The same Dovecot and Postfix answer on IPv6 (the first and last addresses have every port).
	local target port g
	for target in "2001:db8:16:: 143" "2001:db8:16::fff 110" "2001:db8:16:: 25"; do
		port=${target#* } target=${target% *}
		g=$(greeting6 "$target" "$port") ||
			die "no greeting from [$target]:$port: do Dovecot (listen = *, ::) and Postfix (inet_protocols = all) listen on IPv6?"
		[[ $g == *OK* || $g == 220* ]] || die "unexpected greeting from [$target]:$port: $g"
	done
	nsx "$LAB_ROUTER_NS" nft reset counters table inet mailscan_lab >/dev/null 2>&1 || true
	printf '%s: IPv6 side of lab %s up: %s up hosts, %s open pairs in %s\n' "$PROG" "$LAB_PREFIX" \
		"$TRUTH_HOSTS" "$TRUTH_PAIRS" "$TARGET6" >&2
}

cmd_down() {
	[[ $EUID -eq 0 ]] || die "must run as root"
	local ns
	if ns_exists "$LAB_TARGET_NS"; then
		nsx "$LAB_TARGET_NS" nft delete table inet "$NFT_TABLE6" 2>/dev/null || true
	fi
	for ns in "$LAB_ROUTER_NS" "${SCAN_NS[@]}" "$LAB_TARGET_NS" "$LAB_SILENT_NS"; do
		ns_exists "$ns" || continue
		ip -n "$ns" -6 route flush table all 2>/dev/null || true
		ip -n "$ns" -6 neigh flush all nud all 2>/dev/null || true
		nsx "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 >/dev/null
	done
	rm -rf -- "$DIR6"
}

cmd_env() {
	printf '%s=%s\n' \
		LAB6_DIR "$DIR6" \
		LAB6_SCAN_ADDR 2001:db8:0:1::2 \
		LAB6_SCAN_ADDR2 2001:db8:0:2::2 \
		LAB6_SCAN_ADDR3 2001:db8:0:3::2 \
		LAB6_GATEWAY 2001:db8:0:1::1 \
		LAB6_TARGET_RANGE "$TARGET6" \
		LAB6_PSEUDO_RANGE "$PSEUDO6" \
		LAB6_SILENT_RANGE "$SILENT6" \
		LAB6_CLEAR_ALLOWED "$CLEAR_ALLOWED6" \
		LAB6_CLEAR_DISABLED "$CLEAR_DISABLED6" \
		LAB6_ALLOW_RESERVED "$ALLOW_RESERVED6" \
		LAB6_TRUTH "$DIR6/truth6.txt" \
		LAB6_UP "$DIR6/up6.txt" \
		LAB6_BLOCKLIST "$DIR6/blocklist6.txt" \
		LAB6_PSEUDO "$DIR6/pseudo6.txt"
}

(($# == 1)) || usage
case $1 in
up) cmd_up ;;
down) cmd_down ;;
env) cmd_env ;;
*) usage ;;
esac
