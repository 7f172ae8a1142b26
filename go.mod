module mailscan

go 1.26.0

require (
	github.com/cespare/xxhash/v2 v2.3.0
	github.com/google/gopacket v1.1.19
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.50.0
)
