package main

import "syscall"

// maxRSS returns the peak resident set size of this process in bytes, or 0
// if it cannot be read.
func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // Linux reports KiB
}
