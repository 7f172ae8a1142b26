package xsk

import (
	"errors"
	"fmt"
	"testing"
)

func TestCeilPow2(t *testing.T) {
	for _, tc := range []struct{ in, want uint32 }{
		{1, 1}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {4095, 4096}, {4096, 4096}, {4097, 8192}, {1 << 31, 1 << 31},
	} {
		if got := ceilPow2(tc.in); got != tc.want {
			t.Errorf("ceilPow2(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	const page = 4096
	for _, tc := range []struct {
		name string
		in   Config
		want Config
		err  string
	}{
		{"zero", Config{}, Config{Frames: 1024, FrameSize: 2048, Batch: 64, SendBuffer: 4 << 20}, ""},
		{"rounded", Config{Frames: 1000, FrameSize: 4096, Batch: 1000, SendBuffer: 1}, Config{Frames: 1024, FrameSize: 4096, Batch: 1000, SendBuffer: 1}, ""},
		{"small", Config{Frames: 3}, Config{Frames: 4, FrameSize: 2048, Batch: 3, SendBuffer: 4 << 20}, ""},
		{"frames<0", Config{Frames: -1}, Config{}, "xsk: Frames -1 out of range [1, 1048576]"},
		{"frames>max", Config{Frames: 1<<20 + 1}, Config{}, "xsk: Frames 1048577 out of range [1, 1048576]"},
		{"umem>max", Config{Frames: 1 << 20, FrameSize: 4096}, Config{}, "xsk: Frames 1048576 × FrameSize 4096 exceeds 1073741824 bytes of UMEM"},
		{"size<min", Config{FrameSize: 1024}, Config{}, "xsk: FrameSize 1024 is not a power of two in [2048, 4096] (the page size)"},
		{"size>page", Config{FrameSize: 8192}, Config{}, "xsk: FrameSize 8192 is not a power of two in [2048, 4096] (the page size)"},
		{"size not pow2", Config{FrameSize: 3072}, Config{}, "xsk: FrameSize 3072 is not a power of two in [2048, 4096] (the page size)"},
		{"batch>frames", Config{Frames: 16, Batch: 17}, Config{}, "xsk: Batch 17 out of range [1, Frames=16]"},
		{"batch<0", Config{Batch: -1}, Config{}, "xsk: Batch -1 out of range [1, Frames=1024]"},
		{"sndbuf<0", Config{SendBuffer: -1}, Config{}, "xsk: negative SendBuffer -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.in
			err := c.setDefaults(page)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("setDefaults(%+v) = %v, want %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil || c != tc.want {
				t.Fatalf("setDefaults(%+v) = %+v, %v; want %+v", tc.in, c, err, tc.want)
			}
		})
	}
}

func TestUnsupportedError(t *testing.T) {
	errTest := errors.New("test")
	inner := fmt.Errorf("bind: %w", errTest)
	err := opError(opBind, unsupported("queue 3 is taken", inner))
	if got, want := err.Error(), "bind xdp: xsk: AF_XDP unavailable: queue 3 is taken: bind: test"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, ErrUnsupported) || !errors.Is(err, errTest) {
		t.Errorf("%v does not match both ErrUnsupported and its cause", err)
	}
	if opError(opBind, nil) != nil {
		t.Errorf("opError(nil) is not nil")
	}
}
