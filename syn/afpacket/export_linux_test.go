package afpacket

// SetRingFailure makes every TX ring setup fail with err until the returned
// function is called (tests only).
func SetRingFailure(err error) (restore func()) {
	ringHook = func() error { return err }
	return func() { ringHook = nil }
}

// SetPhysical makes ModeAuto treat every interface as a hardware device (TX
// ring first) until the returned function is called (tests only: the test
// lab has only veths).
func SetPhysical() (restore func()) {
	virtualHook = func(int) bool { return false }
	return func() { virtualHook = virtualDevice }
}
