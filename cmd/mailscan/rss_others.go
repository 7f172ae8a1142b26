//go:build !linux

package main

// maxRSS returns 0: the peak RSS is only read on Linux.
func maxRSS() int64 { return 0 }
