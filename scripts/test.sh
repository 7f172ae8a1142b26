#!/usr/bin/env bash
# Runs every test: formatting, vet (Linux and a non-Linux build), the unit
# tests with -race, each fuzz target briefly, and the lab tests (root: they
# build their own network namespaces with scripts/lab.sh). Under CI=true a lab
# test that cannot run fails rather than skips.
#
#   sudo scripts/test.sh            # everything
#   FUZZTIME=30s sudo scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
fuzztime=${FUZZTIME:-8s}

step() { printf '\n== %s\n' "$*"; }

step "gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	printf 'gofmt would change:\n%s\n' "$unformatted"
	exit 1
fi

step "go vet"
go vet ./...
GOOS=darwin go vet ./...

step "go build"
go build -o /dev/null ./cmd/mailscan

step "unit and lab tests (-race)"
if [ "$(id -u)" != 0 ]; then
	echo "not root: the lab tests will skip (run with sudo for the whole suite)"
fi
go test -race -count=1 -timeout 20m ./...

step "fuzz targets (${fuzztime} each)"
for pkg in $(go list ./...); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "-- $pkg $target"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/tmp/mailscan-fuzz.log 2>&1 || {
			cat /tmp/mailscan-fuzz.log
			exit 1
		}
	done
done

step "all tests passed"
