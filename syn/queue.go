package syn

import "mailscan/syn/hitlist"

// event is what the receiver tells the output goroutine: a hit, or (with
// control probes) what a host's control port said.
type event struct {
	hit hitlist.Hit
	// control marks a control-port answer for host: allPorts is true when
	// the host accepted a connection on its random control port.
	control  bool
	host     host
	allPorts bool
}
