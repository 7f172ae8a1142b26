//go:build !linux

package privdrop

import (
	"fmt"
	"os"
	"runtime"
)

// Drop is not implemented outside Linux.
func Drop(u *User) (string, error) {
	return "", fmt.Errorf("privdrop: dropping privileges is not implemented on %s", runtime.GOOS)
}

// Summary is empty outside Linux.
func Summary() string { return "" }

func statOwner(os.FileInfo) (uid, gid int) { return -1, -1 }
