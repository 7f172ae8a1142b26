//go:build !linux

package main

import (
	"fmt"
	"os"
	"runtime"
)

func dropPrivileges(user string) (string, error) {
	return "", fmt.Errorf("dropping privileges is not implemented on %s", runtime.GOOS)
}

func lookupUser(name string) (uid, gid int, err error) {
	return 0, 0, fmt.Errorf("--user is not implemented on %s", runtime.GOOS)
}

func statOwner(os.FileInfo) (uid, gid int) { return -1, -1 }
