package banner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chunkConn delivers its chunks one Read at a time, then io.EOF.
type chunkConn struct {
	cannedConn
	chunks []string
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	if n < len(c.chunks[0]) {
		c.chunks[0] = c.chunks[0][n:]
	} else {
		c.chunks = c.chunks[1:]
	}
	c.read += n
	return n, nil
}

func TestReadLine(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name    string
		chunks  []string
		maxLine int
		max     int
		want    []string // lines, then the error's line
		wantErr error
	}{
		{name: "crlf", chunks: []string{"a\r\nb\r\n"}, maxLine: 128, max: 1024, want: []string{"a", "b", ""}, wantErr: io.EOF},
		{name: "bare lf and bare cr kept", chunks: []string{"a\nb\rc\n"}, maxLine: 128, max: 1024, want: []string{"a", "b\rc", ""}, wantErr: io.EOF},
		{name: "split across reads", chunks: []string{"* O", "K re", "ady\r", "\n"}, maxLine: 128, max: 1024, want: []string{"* OK ready", ""}, wantErr: io.EOF},
		{name: "partial line at EOF is returned", chunks: []string{"+OK hel"}, maxLine: 128, max: 1024, want: []string{"+OK hel"}, wantErr: io.EOF},
		{name: "exactly maxLine with CRLF", chunks: []string{long[:126] + "\r\n"}, maxLine: 128, max: 1024, want: []string{long[:126], ""}, wantErr: io.EOF},
		{name: "one byte over maxLine", chunks: []string{long[:127] + "\r\n"}, maxLine: 128, max: 1024, want: []string{long[:127] + "\r"}, wantErr: errLineTooLong},
		{name: "longer than the bufio buffer", chunks: []string{strings.Repeat("y", 3000) + "\n"}, maxLine: 4096, max: 8192, want: []string{strings.Repeat("y", 3000), ""}, wantErr: io.EOF},
		{name: "too long across buffers", chunks: []string{strings.Repeat("z", 5000)}, maxLine: 2048, max: 8192, want: []string{strings.Repeat("z", 2048)}, wantErr: errLineTooLong},
		{name: "read limit", chunks: []string{"a\r\n", "bbbbbbbbbb\r\n"}, maxLine: 128, max: 8, want: []string{"a", "bbbbb"}, wantErr: errReadLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &chunkConn{chunks: append([]string(nil), tt.chunks...)}
			cfg := &Config{MaxLineBytes: tt.maxLine, MaxBytes: tt.max, ReadTimeout: time.Second}
			s := newSession(c, cfg, time.Now().Add(time.Minute))
			defer s.close()
			for i, want := range tt.want {
				got, err := s.readLine()
				if got != want {
					t.Fatalf("line %d = %q, want %q", i, got, want)
				}
				if i < len(tt.want)-1 {
					if err != nil {
						t.Fatalf("line %d: %v", i, err)
					}
				} else if !errors.Is(err, tt.wantErr) {
					t.Fatalf("last error = %v, want %v", err, tt.wantErr)
				}
			}
			if s.bytesRead() > tt.max {
				t.Fatalf("read %d bytes, above %d", s.bytesRead(), tt.max)
			}
		})
	}
}

// TestReadLineAllocs: a line that fits the buffer costs one allocation,
// its string.
func TestReadLineAllocs(t *testing.T) {
	data := strings.Repeat("* CAPABILITY IMAP4rev1 STARTTLS\r\n", 1000)
	c := &cannedConn{data: []byte(data)}
	s := newSession(c, &Config{MaxLineBytes: 1024, MaxBytes: len(data), ReadTimeout: time.Second}, time.Now().Add(time.Minute))
	defer s.close()
	if n := testing.AllocsPerRun(500, func() { s.readLine() }); n != 1 {
		t.Fatalf("readLine allocates %v times, want 1", n)
	}
}

func TestStatusOf(t *testing.T) {
	opErr := func(err error) error {
		return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
	}
	tests := []struct {
		err  error
		want Status
	}{
		{nil, StatusSuccess},
		{io.EOF, StatusClosed},
		{fmt.Errorf("banner: read greeting: %w", io.ErrUnexpectedEOF), StatusClosed},
		{opErr(syscall.ECONNRESET), StatusClosed},
		{opErr(syscall.EPIPE), StatusClosed},
		{io.ErrClosedPipe, StatusClosed},
		{&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, StatusIOTimeout},
		{fmt.Errorf("x: %w", os.ErrDeadlineExceeded), StatusIOTimeout},
		{fmt.Errorf("%w: %w", errCanceled, io.EOF), StatusIOTimeout},
		{errLineTooLong, StatusProtocolError},
		{fmt.Errorf("x: %w", errReadLimit), StatusProtocolError},
		{textproto.ProtocolError("short response"), StatusProtocolError},
		{fmt.Errorf("banner: read EHLO reply: %w", textproto.ProtocolError("x")), StatusProtocolError},
		{withStatus(StatusTLSError, &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}), StatusTLSError},
		{fmt.Errorf("wrapped: %w", refusedf("banner: server refused")), StatusClosed},
		{protocolErrorf("banner: not IMAP"), StatusProtocolError},
	}
	for _, tt := range tests {
		if got := statusOf(tt.err); got != tt.want {
			t.Errorf("statusOf(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestDialStatus(t *testing.T) {
	dialErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}
	}
	tests := []struct {
		err  error
		want Status
	}{
		{dialErr(syscall.ECONNREFUSED), StatusConnectionRefused},
		{dialErr(syscall.EHOSTUNREACH), StatusUnreachable},
		{dialErr(syscall.ENETUNREACH), StatusUnreachable},
		{dialErr(syscall.ENETDOWN), StatusUnreachable},
		{&net.OpError{Op: "dial", Net: "tcp", Err: context.DeadlineExceeded}, StatusConnectionTimeout},
		{&net.OpError{Op: "dial", Net: "tcp", Err: context.Canceled}, StatusConnectionTimeout},
		{dialErr(syscall.ETIMEDOUT), StatusConnectionTimeout},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}, StatusConnectionTimeout},
	}
	for _, tt := range tests {
		if got := dialStatus(tt.err); got != tt.want {
			t.Errorf("dialStatus(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestNewScannerConfig(t *testing.T) {
	s, err := NewScanner(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := s.Config()
	if c.ReadTimeout != DefaultReadTimeout || c.TargetTimeout != DefaultTargetTimeout || c.ConnectTimeout != DefaultConnectTimeout ||
		c.MaxLineBytes != DefaultMaxLineBytes || c.MaxBytes != DefaultMaxBytes || c.EHLOName == "" || c.Matcher == nil {
		t.Fatalf("defaults = %+v", c)
	}
	if s, _ := NewScanner(&Config{TargetTimeout: time.Second}); s.Config().ConnectTimeout != time.Second {
		t.Fatalf("ConnectTimeout %v not capped by TargetTimeout", s.Config().ConnectTimeout)
	}
	bad := []struct {
		cfg  Config
		want string
	}{
		{Config{ReadTimeout: -1}, "banner: ReadTimeout -1ns is negative"},
		{Config{TargetTimeout: -time.Second}, "banner: TargetTimeout -1s is negative"},
		{Config{MaxLineBytes: 64}, "banner: MaxLineBytes 64 is below the minimum 128"},
		{Config{MaxLineBytes: 4096, MaxBytes: 1024}, "banner: MaxBytes 1024 is below MaxLineBytes 4096"},
		{Config{EHLOName: "a b"}, `banner: EHLO name "a b" holds a space or control character`},
		{Config{EHLOName: "x\r\nMAIL FROM:<a@b>"}, `banner: EHLO name "x\r\nMAIL FROM:<a@b>" holds a space or control character`},
		{Config{EHLOName: strings.Repeat("a", 256)}, "banner: EHLO name longer than 255 bytes"},
	}
	for _, tt := range bad {
		if _, err := NewScanner(&tt.cfg); err == nil || err.Error() != tt.want {
			t.Errorf("NewScanner(%+v) error = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestScanUnknownProtocol(t *testing.T) {
	m := &memNet{serve: func(string, net.Conn) {}}
	s, err := NewScanner(testConfig(m))
	if err != nil {
		t.Fatal(err)
	}
	r := s.Scan(context.Background(), Target{Addr: testAddr, Port: 8080})
	if r.Status != StatusProtocolError || r.Error != `banner: no protocol for "" port 8080` || m.dials.Load() != 0 {
		t.Fatalf("status %q error %q dials %d", r.Status, r.Error, m.dials.Load())
	}
}
