//go:build !linux

package main

import (
	"fmt"
	"runtime"
)

func dropPrivileges(user string) (string, error) {
	return "", fmt.Errorf("dropping privileges is not implemented on %s", runtime.GOOS)
}
