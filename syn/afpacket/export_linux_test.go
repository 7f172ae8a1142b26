package afpacket

// SetRingFailure makes every TX ring setup fail with err until the returned
// function is called (tests only).
func SetRingFailure(err error) (restore func()) {
	ringHook = func() error { return err }
	return func() { ringHook = nil }
}
