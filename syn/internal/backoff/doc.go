// Package backoff is the wait of a raw-socket sender whose kernel queue is
// full: sleep, doubling from 10 µs to 1 ms, and give up after a stall. The
// thread sleeps rather than spins, so that the kernel's softirq work (on a
// loaded CPU it runs in ksoftirqd, on the very CPU a sender is pinned to)
// can free what is being waited for.
package backoff
