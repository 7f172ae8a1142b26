module mailscan

go 1.26.0

require (
	github.com/cespare/xxhash/v2 v2.3.0
	github.com/google/gopacket v1.1.19
	github.com/klauspost/compress v1.20.5
	github.com/maxmind/mmdbwriter v1.2.0
	github.com/oschwald/maxminddb-golang/v2 v2.9.0
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.50.0
	kernel.org/pub/linux/libs/security/libcap/cap v1.2.78
)

require (
	go4.org/netipx v0.0.0-20231129151722-fdeea329fbba // indirect
	kernel.org/pub/linux/libs/security/libcap/psx v1.2.78 // indirect
)
