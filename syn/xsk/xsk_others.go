//go:build !linux

package xsk

import "runtime"

// errUnimplemented is returned by NewSender on systems without AF_XDP. It
// matches ErrUnsupported, so callers fall back as they do when a Linux
// kernel refuses AF_XDP.
var errUnimplemented = unsupported("not implemented on "+runtime.GOOS+"/"+runtime.GOARCH, nil)

type sender struct{ stats Stats }

func (*sender) open(int, int, *Config) error { return errUnimplemented }
func (*sender) next() ([]byte, error)        { return nil, errUnimplemented }
func (*sender) commit(int)                   { panic(errUnimplemented) }
func (*sender) flush() error                 { return errUnimplemented }
func (*sender) close() error                 { return errUnimplemented }
