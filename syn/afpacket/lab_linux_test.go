package afpacket_test

import (
	"testing"

	"mailscan/syn/internal/vethlab"
)

// The integration tests run on a vethlab: two namespaces joined by a veth,
// va (labAddrA) in A and vb (labAddrB) in B.
type lab = vethlab.Lab

const (
	labAddrA = vethlab.AddrA
	labAddrB = vethlab.AddrB
)

func newLab(tb testing.TB) *lab { return vethlab.New(tb) }
