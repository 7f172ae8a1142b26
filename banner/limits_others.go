//go:build !linux

package banner

import (
	"fmt"
	"runtime"
)

// RaiseFileLimit raises the open-file limit; it is implemented on Linux
// only and returns an error naming the platform elsewhere.
func RaiseFileLimit(want uint64) (got uint64, err error) {
	return 0, fmt.Errorf("banner: RaiseFileLimit not implemented on %s/%s", runtime.GOOS, runtime.GOARCH)
}
