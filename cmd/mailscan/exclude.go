package main

import (
	"flag"
	"fmt"

	"mailscan/blocklist"
)

// exclusionFlags are the flags of the exclusion policy. syn, banner and run
// take the same ones, and every stage that sends a packet or opens a
// connection checks the one policy they build.
type exclusionFlags struct {
	blocklists, allowReserved listFlag
}

func (f *exclusionFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.blocklists, "b", "blocklist `file` (ZMap format: address, CIDR or range per line, IPv4 or IPv6, # comments); repeatable")
	fs.Var(&f.allowReserved, "allow-reserved", "contact this reserved `CIDR` (e.g. 198.18.0.0/15) if targeted; repeatable")
}

// policy reads the blocklists and builds the policy. A blocklist's IPv6
// entries are reported once here: they apply to IPv6 targets only.
func (f *exclusionFlags) policy(e *env) (*blocklist.Policy, error) {
	var lists []*blocklist.List
	for _, file := range f.blocklists {
		l, err := blocklist.ParseListFile(file)
		if err != nil {
			return nil, usageError{err}
		}
		if l.V6Entries > 0 {
			e.log.Info(fmt.Sprintf("blocklist %s: %d IPv6 entries, applied to IPv6 targets", file, l.V6Entries))
		}
		lists = append(lists, l)
	}
	allow, err := blocklist.ParseAllowReserved(f.allowReserved)
	if err != nil {
		return nil, usagef("--allow-reserved: %v", err)
	}
	return blocklist.NewPolicy(lists, allow), nil
}
