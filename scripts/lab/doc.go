// Package lab is the Go half of mailscan's test lab (scripts/lab.sh, which
// builds the network namespaces and runs the servers): the ground truth and
// its checker, written once and used by `lab.sh demo`, the lab tests and
// scripts/bench.sh.
//
// [Generate] draws the truth from a seed: which addresses of the target
// range are up, which of the seven mail ports each has open, and a
// blocklist whose every entry hides up hosts. [Truth.WriteFiles] writes it
// as the files the lab serves it from (truth.txt, up.txt, blocklist.txt,
// pseudo.txt, cleartext.txt, and the nftables sets that make the target
// namespace answer exactly so), and [Load] reads them back: every
// consumer reads the truth from those files, never from this package's
// memory of a seed. [Truth.Expected] is what a correct scan finds (the
// open pairs outside the blocklist), and [Compare] tells how a scan
// differs from it.
//
// The checker is an oracle for the code under test, so it uses none of
// it: the blocklist is read with net/netip, not package blocklist, and
// hit lists with a CSV reader of its own, not package hitlist.
//
// The command mailscan/scripts/lab/labctl runs them from the shell
// (`labctl gen`, `labctl check`, and `labctl ready`, the servers'
// readiness probe, [Ready]); [Up], [Down] and [Env] run lab.sh for Go
// tests. Package mailscan/scripts/lab/labtest says what a test does without
// root or the lab.
package lab
