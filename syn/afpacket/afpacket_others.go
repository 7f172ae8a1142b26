//go:build !linux

package afpacket

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// errUnimplemented is returned by every constructor on systems without
// AF_PACKET.
var errUnimplemented = fmt.Errorf("afpacket: not implemented on %s/%s", runtime.GOOS, runtime.GOARCH)

type sender struct {
	mode  Mode
	stats SenderStats
}

func (*sender) open(int, *SenderConfig) error { return errUnimplemented }
func (*sender) next() ([]byte, error)         { return nil, errUnimplemented }
func (*sender) commit(int)                    { panic(errUnimplemented) }
func (*sender) flush() error                  { return errUnimplemented }
func (*sender) close() error                  { return errUnimplemented }

type receiver struct{}

func (*receiver) open(int, *ReceiverConfig) error { return errUnimplemented }
func (*receiver) poll(time.Duration, func([]byte), *atomic.Bool) (int, error) {
	return 0, errUnimplemented
}
func (*receiver) readStats() (ReceiverStats, error) { return ReceiverStats{}, errUnimplemented }
func (*receiver) wake()                             {}
func (*receiver) close() error                      { return errUnimplemented }
