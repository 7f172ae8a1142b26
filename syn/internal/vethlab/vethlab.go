// Package vethlab is the test bench of the packages that open raw sockets
// (syn/afpacket, syn/netroute): two network namespaces joined by a veth pair,
// made and removed by the test that asks for them. Nothing in it can reach
// the host's own interfaces: the veth is created inside namespace A and its
// peer moved straight to B, and every address is in 198.18.0.0/15.
//
// It is for tests only, and Linux only; it needs root, and a test that asks
// for it without root skips, except under CI=true, where it fails.
package vethlab
