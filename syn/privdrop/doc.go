// Package privdrop ends the privileges of a scanning process once its raw
// sockets are open, so that nothing it does afterwards (the banner stage's
// TCP and TLS dialogues with untrusted servers) runs with the right to
// send raw frames, or can regain it.
//
// [Drop] empties the capability sets (effective, permitted, inheritable,
// ambient) and the bounding set, sets no_new_privs and, given a [User],
// switches to it. Linux keeps credentials per thread, and the Go runtime
// runs goroutines on many threads: every change is made on every thread
// at once through libcap's psx mechanism (kernel.org/.../libcap/psx),
// which uses syscall.AllThreadsSyscall in a binary built with
// CGO_ENABLED=0 and libpsx's signal-driven broadcast in one built with
// cgo, where AllThreadsSyscall refuses to run. Drop then reads every
// thread's credentials back from /proc and fails if any thread kept a
// capability: a drop that did not happen is an error, never a silent
// success.
//
// It is Linux only; elsewhere Drop returns an error naming the system.
package privdrop
