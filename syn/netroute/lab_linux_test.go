package netroute_test

import (
	"testing"

	"mailscan/syn/internal/vethlab"
)

// The integration tests run on a vethlab: two namespaces joined by a veth,
// va (labAddrA) in A and vb (labAddrB) in B, and in A a route to
// 198.18.16.0/20 via B.
type lab = vethlab.Lab

var run = vethlab.Run

func newLab(tb testing.TB) *lab { return vethlab.New(tb, "198.18.16.0/20") }
