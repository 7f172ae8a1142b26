package frame_test

import (
	"flag"
	"io"
	"strings"
	"testing"

	"mailscan/syn/frame"
)

// layoutBytes is every layout's expected encoding, written from the
// layouts' documentation (and, for Linux and Windows, from p0f's signatures
// "mss,sok,ts,nop,ws" with ws 7 and "mss,nop,ws,nop,nop,sok" with ws 8).
var layoutBytes = []struct {
	name string
	o    frame.TCPOptions
	want []byte
}{
	{"none", frame.OptionsNone, []byte{}},
	{"mss", frame.OptionsMSS, []byte{2, 4, 0x05, 0xb4}},
	{"linux", frame.OptionsLinux, []byte{
		2, 4, 0x05, 0xb4, // MSS 1460
		4, 2, // SACK permitted
		8, 10, 0, 0, 0, 1, 0, 0, 0, 0, // timestamps: TSval 1, TSecr 0
		1,       // NOP
		3, 3, 7, // window scale 7
	}},
	{"windows", frame.OptionsWindows, []byte{
		2, 4, 0x05, 0xb4, // MSS 1460
		1,       // NOP
		3, 3, 8, // window scale 8
		1, 1, // NOP, NOP
		4, 2, // SACK permitted
	}},
}

func TestTCPOptionsEncode(t *testing.T) {
	for _, tt := range layoutBytes {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.Len(); got != len(tt.want) {
				t.Errorf("Len() = %d, want %d", got, len(tt.want))
			}
			if tt.o.Len()%4 != 0 {
				t.Errorf("Len() = %d is not a multiple of 4", tt.o.Len())
			}
			buf := make([]byte, frame.TCPOptionsMaximumSize)
			for i := range buf {
				buf[i] = 0xee
			}
			n := tt.o.Encode(buf)
			if n != len(tt.want) || string(buf[:n]) != string(tt.want) {
				t.Errorf("Encode wrote %d bytes % x, want % x", n, buf[:n], tt.want)
			}
			for i, c := range buf[n:] {
				if c != 0xee {
					t.Fatalf("Encode wrote beyond its length at byte %d", n+i)
				}
			}
			if len(tt.want) > 0 {
				short := make([]byte, len(tt.want)-1)
				if n := tt.o.Encode(short); n != 0 || strings.Trim(string(short), "\x00") != "" {
					t.Errorf("Encode into %d bytes = %d, wrote % x; want 0 and nothing", len(short), n, short)
				}
			}
		})
	}
	for _, bad := range []frame.TCPOptions{0, -1, frame.OptionsWindows + 1} {
		if bad.Valid() || bad.Len() != 0 || bad.Encode(make([]byte, 40)) != 0 {
			t.Errorf("invalid %v: Valid %v, Len %d; want false, 0", bad, bad.Valid(), bad.Len())
		}
	}
}

func TestParseTCPOptions(t *testing.T) {
	tests := []struct {
		in      string
		want    frame.TCPOptions
		wantErr string
	}{
		{in: "none", want: frame.OptionsNone},
		{in: "mss", want: frame.OptionsMSS},
		{in: "linux", want: frame.OptionsLinux},
		{in: "windows", want: frame.OptionsWindows},
		{in: "", wantErr: `frame: unknown TCP options layout "" (want none, mss, linux or windows)`},
		{in: "Linux", wantErr: `frame: unknown TCP options layout "Linux" (want none, mss, linux or windows)`},
		{in: "macos", wantErr: `frame: unknown TCP options layout "macos" (want none, mss, linux or windows)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := frame.ParseTCPOptions(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseTCPOptions(%q) = %v, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseTCPOptions(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if s := got.String(); s != tt.in {
				t.Errorf("String() = %q, want %q", s, tt.in)
			}
		})
	}
	if s := frame.TCPOptions(0).String(); s != "TCPOptions(0)" {
		t.Errorf("TCPOptions(0).String() = %q", s)
	}
}

func TestTCPOptionsFlag(t *testing.T) {
	fs := flag.NewFlagSet("syn", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := frame.OptionsLinux
	fs.Var(&o, "tcp-options", "SYN options layout")
	if err := fs.Parse([]string{"-tcp-options", "windows"}); err != nil || o != frame.OptionsWindows {
		t.Fatalf("Parse windows: %v, %v", o, err)
	}
	if err := fs.Parse([]string{"-tcp-options", "bsd"}); err == nil || o != frame.OptionsWindows {
		t.Fatalf("Parse bsd: %v, %v; want error and value unchanged", o, err)
	}
}
