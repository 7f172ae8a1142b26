package blocklist_test

import (
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"mailscan/blocklist"
)

func TestParseEntry(t *testing.T) {
	good := []struct {
		in   string
		want blocklist.Range
	}{
		{"1.2.3.4", blocklist.Range{First: 0x01020304, Last: 0x01020304}},
		{"0.0.0.0", blocklist.Range{First: 0, Last: 0}},
		{"255.255.255.255", blocklist.Range{First: math.MaxUint32, Last: math.MaxUint32}},
		{"1.2.3.0/24", blocklist.Range{First: 0x01020300, Last: 0x010203ff}},
		{"1.2.3.77/24", blocklist.Range{First: 0x01020300, Last: 0x010203ff}}, // host bits masked
		{"198.18.0.0/15", blocklist.Range{First: 0xc6120000, Last: 0xc613ffff}},
		{"198.19.1.1/15", blocklist.Range{First: 0xc6120000, Last: 0xc613ffff}},
		{"0.0.0.0/0", blocklist.Range{First: 0, Last: math.MaxUint32}},
		{"9.9.9.9/0", blocklist.Range{First: 0, Last: math.MaxUint32}},
		{"1.2.3.4/32", blocklist.Range{First: 0x01020304, Last: 0x01020304}},
		{"1.2.3.4/31", blocklist.Range{First: 0x01020304, Last: 0x01020305}},
		{"1.2.3.4-1.2.3.9", blocklist.Range{First: 0x01020304, Last: 0x01020309}},
		{"1.2.3.4-1.2.3.4", blocklist.Range{First: 0x01020304, Last: 0x01020304}},
		{"0.0.0.0-255.255.255.255", blocklist.Range{First: 0, Last: math.MaxUint32}},
	}
	for _, tt := range good {
		t.Run(tt.in, func(t *testing.T) {
			got, err := blocklist.ParseEntry(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("ParseEntry(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
			}
		})
	}

	bad := []struct {
		in   string
		want string
	}{
		{"", `blocklist: "": empty entry`},
		{"1.2.3", `blocklist: "1.2.3": invalid IPv4 address: IPv4 address too short`},
		{"1.2.3.256", `blocklist: "1.2.3.256": invalid IPv4 address: IPv4 field has value >255`},
		{"01.2.3.4", `blocklist: "01.2.3.4": invalid IPv4 address: IPv4 field has octet with leading zero`},
		{"0x0a.0.0.1", `blocklist: "0x0a.0.0.1": invalid IPv4 address: unexpected character (at "x0a.0.0.1")`},
		{"10", `blocklist: "10": invalid IPv4 address: unable to parse IP`},
		{"example.com", `blocklist: "example.com": invalid IPv4 address: unexpected character (at "example.com")`},
		{"1.2.3.4/33", `blocklist: "1.2.3.4/33": invalid prefix length "33" (want 0 to 32)`},
		{"1.2.3.4/", `blocklist: "1.2.3.4/": invalid prefix length "" (want 0 to 32)`},
		{"1.2.3.4/08", `blocklist: "1.2.3.4/08": invalid prefix length "08" (want 0 to 32)`},
		{"1.2.3.4/+8", `blocklist: "1.2.3.4/+8": invalid prefix length "+8" (want 0 to 32)`},
		{"1.2.3.4/-1", `blocklist: "1.2.3.4/-1": invalid prefix length "-1" (want 0 to 32)`},
		{"1.2.3.4/240", `blocklist: "1.2.3.4/240": invalid prefix length "240" (want 0 to 32)`},
		{"1.2.3.0/24/8", `blocklist: "1.2.3.0/24/8": invalid prefix length "24/8" (want 0 to 32)`},
		{"/24", `blocklist: "/24": invalid IPv4 address "": unable to parse IP`},
		{"1.2.3.9-1.2.3.4", `blocklist: "1.2.3.9-1.2.3.4": range is reversed: first address is above last`},
		{"1.2.3.4-", `blocklist: "1.2.3.4-": invalid IPv4 address "": unable to parse IP`},
		{"1.2.3.4-1.2.3.5-1.2.3.6", `blocklist: "1.2.3.4-1.2.3.5-1.2.3.6": invalid IPv4 address "1.2.3.5-1.2.3.6": unexpected character (at "-1.2.3.6")`},
		{"1.2.3.4-9", `blocklist: "1.2.3.4-9": invalid IPv4 address "9": unable to parse IP`},
		{"1.2.3.4 1.2.3.5", `blocklist: "1.2.3.4 1.2.3.5": more than one word: one entry per line, comments start with #`},
		{" 1.2.3.4", `blocklist: " 1.2.3.4": more than one word: one entry per line, comments start with #`},
		{"1.2.3.4%eth0", `blocklist: "1.2.3.4%eth0": invalid IPv4 address: unexpected character (at "%eth0")`},
		{"2001:db8::1", `blocklist: "2001:db8::1": IPv6 is not supported (IPv4 only)`},
		{"2001:db8::/32", `blocklist: "2001:db8::/32": IPv6 is not supported (IPv4 only)`},
		{"::ffff:1.2.3.4", `blocklist: "::ffff:1.2.3.4": IPv6 is not supported (IPv4 only)`},
		{"fe80::1%eth0", `blocklist: "fe80::1%eth0": IPv6 is not supported (IPv4 only)`},
		{"1.2.3.4-::1", `blocklist: "1.2.3.4-::1": IPv6 is not supported (IPv4 only)`},
		{strings.Repeat("7", 100), `blocklist: "` + strings.Repeat("7", 64) + `...": invalid IPv4 address: unable to parse IP`},
	}
	for _, tt := range bad {
		t.Run(tt.in, func(t *testing.T) {
			got, err := blocklist.ParseEntry(tt.in)
			if err == nil {
				t.Fatalf("ParseEntry(%q) = %v, nil; want error %q", tt.in, got, tt.want)
			}
			if err.Error() != tt.want {
				t.Fatalf("ParseEntry(%q) error\n got %q\nwant %q", tt.in, err.Error(), tt.want)
			}
			if is6 := strings.Contains(tt.want, "IPv6"); errors.Is(err, blocklist.ErrIPv6) != is6 {
				t.Fatalf("errors.Is(err, ErrIPv6) = %v, want %v", !is6, is6)
			}
		})
	}
}

// zmapStyle is a blocklist written the way ZMap's own conf/blocklist.conf
// is: header comments, aligned trailing comments, blank lines.
const zmapStyle = `# Special-purpose ranges, one per line.
# Comments start with '#'.

10.0.0.0/8          # RFC1918: Private-Use
192.0.2.0/24        # RFC5737: Documentation (TEST-NET-1)
	198.18.0.0/15	# RFC2544: Benchmarking, tab-indented
203.0.113.7#no space before the comment
   # indented comment line
198.51.100.10-198.51.100.20
255.255.255.255/32  # RFC0919: Limited Broadcast
   
10.1.2.3            # inside 10/8: merged
`

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string // Set.String of the result
	}{
		{"zmap style", zmapStyle, "10.0.0.0/8, 192.0.2.0/24, 198.18.0.0/15, 198.51.100.10-198.51.100.20, 203.0.113.7/32, 255.255.255.255/32"},
		{"empty input", "", ""},
		{"only comments and blanks", "# nothing\n\n   \n\t# more\n", ""},
		{"CRLF line endings", "192.0.2.1\r\n192.0.2.2\r\n", "192.0.2.1-192.0.2.2"},
		{"no final newline", "192.0.2.0/25\n192.0.2.128/25", "192.0.2.0/24"},
		{"lone CR is whitespace", "192.0.2.1\r", "192.0.2.1/32"},
		{"comment hides a bad entry", "# 999.1.1.1\n192.0.2.1 # 2001:db8::1\n", "192.0.2.1/32"},
		{"whole space", "0.0.0.0/0\n", "0.0.0.0/0"},
		{"NUL bytes in a comment", "192.0.2.1 #\x00\x00\xff\n", "192.0.2.1/32"},
		{"line of exactly the limit", strings.Repeat(" ", blocklist.MaxLineLength-9) + "192.0.2.1\n", "192.0.2.1/32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := blocklist.Parse(strings.NewReader(tt.input), "list.txt")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkInvariants(t, s)
			if got := s.String(); got != tt.want {
				t.Fatalf("Parse = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseBadLines(t *testing.T) {
	tooLong := strings.Repeat("1", blocklist.MaxLineLength+1)
	tests := []struct {
		name  string
		input string
		want  []string // the joined errors, one per line of err.Error()
	}{
		{
			name:  "every bad line reported",
			input: "192.0.2.1\n192.0.2.300 # typo\n\n10.0.0.0/33\n2001:db8::/32\n192.0.2.0/24\nexample.com\n",
			want: []string{
				`blocklist: lab/block.txt:2: "192.0.2.300": invalid IPv4 address: IPv4 field has value >255`,
				`blocklist: lab/block.txt:4: "10.0.0.0/33": invalid prefix length "33" (want 0 to 32)`,
				`blocklist: lab/block.txt:5: "2001:db8::/32": IPv6 is not supported (IPv4 only)`,
				`blocklist: lab/block.txt:7: "example.com": invalid IPv4 address: unexpected character (at "example.com")`,
			},
		},
		{
			name:  "two entries on a line",
			input: "192.0.2.1 192.0.2.2\n",
			want:  []string{`blocklist: lab/block.txt:1: "192.0.2.1 192.0.2.2": more than one word: one entry per line, comments start with #`},
		},
		{
			name:  "binary garbage",
			input: "\x00\x01\xff\xfe\n192.0.2.1\n",
			want:  []string{`blocklist: lab/block.txt:1: "\x00\x01\xff\xfe": invalid IPv4 address: unable to parse IP`},
		},
		{
			name:  "too long line, then parsing goes on",
			input: tooLong + "\n192.0.2.1\n192.0.2.x\n",
			want: []string{
				`blocklist: lab/block.txt:1: "` + strings.Repeat("1", 64) + `...": line longer than 1048576 bytes`,
				`blocklist: lab/block.txt:3: "192.0.2.x": invalid IPv4 address: unexpected character (at "x")`,
			},
		},
		{
			name:  "too long last line without newline",
			input: "192.0.2.1\n" + tooLong,
			want:  []string{`blocklist: lab/block.txt:2: "` + strings.Repeat("1", 64) + `...": line longer than 1048576 bytes`},
		},
		{
			name:  "20 bad lines: all shown",
			input: strings.Repeat("bad\n", 20),
			want:  badLines(20, ""),
		},
		{
			name:  "21 bad lines: 20 shown, 1 counted",
			input: strings.Repeat("bad\n", 21),
			want:  badLines(20, "blocklist: lab/block.txt: and 1 more bad line"),
		},
		{
			name:  "25 bad lines: 20 shown, 5 counted",
			input: strings.Repeat("bad\n", 25) + "192.0.2.1\n",
			want:  badLines(20, "blocklist: lab/block.txt: and 5 more bad lines"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := blocklist.Parse(strings.NewReader(tt.input), "lab/block.txt")
			if err == nil {
				t.Fatalf("Parse = %v, nil; want errors", s)
			}
			if s != nil {
				t.Errorf("Parse returned a set (%v) with an error", s)
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("Parse error:\n got:\n%s\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
			joined, ok := err.(interface{ Unwrap() []error })
			if !ok {
				t.Fatalf("error %T is not an errors.Join", err)
			}
			for i, e := range joined.Unwrap() {
				var le *blocklist.LineError
				if isLine := errors.As(e, &le); isLine != !strings.Contains(tt.want[i], "more bad line") {
					t.Errorf("error %d (%v): errors.As(*LineError) = %v", i, e, isLine)
				}
			}
		})
	}
}

// badLines is the expected error of n lines reading "bad", plus more.
func badLines(n int, more string) []string {
	var w []string
	for i := 1; i <= n; i++ {
		w = append(w, `blocklist: lab/block.txt:`+itoa(i)+`: "bad": invalid IPv4 address: unable to parse IP`)
	}
	if more != "" {
		w = append(w, more)
	}
	return w
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestLineErrorFields(t *testing.T) {
	_, err := blocklist.Parse(strings.NewReader("192.0.2.1\n  2001:db8::1  # v6\n"), "x.conf")
	var le *blocklist.LineError
	if !errors.As(err, &le) {
		t.Fatalf("Parse error %v is not a *LineError", err)
	}
	want := blocklist.LineError{File: "x.conf", Line: 2, Value: "2001:db8::1", Err: blocklist.ErrIPv6}
	if *le != want {
		t.Fatalf("LineError = %+v, want %+v", *le, want)
	}
	if !errors.Is(err, blocklist.ErrIPv6) {
		t.Fatal("errors.Is(err, ErrIPv6) = false")
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("192.0.2.1\n"), iotest.ErrReader(boom))
	_, err := blocklist.Parse(r, "pipe")
	if !errors.Is(err, boom) || err.Error() != "blocklist: reading pipe: boom" {
		t.Fatalf("Parse error = %v, want %q wrapping boom", err, "blocklist: reading pipe: boom")
	}
}

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "allow.txt")
	if err := os.WriteFile(path, []byte("198.18.16.0/20\n198.18.48.0/24 # lab\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := blocklist.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.String(), "198.18.16.0/20, 198.18.48.0/24"; got != want {
		t.Fatalf("ParseFile = %q, want %q", got, want)
	}

	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("198.18.16.0/20\n198.18.16.0/40\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = blocklist.ParseFile(bad)
	if want := `blocklist: ` + bad + `:2: "198.18.16.0/40": invalid prefix length "40" (want 0 to 32)`; err == nil || err.Error() != want {
		t.Fatalf("ParseFile(bad) error = %v, want %q", err, want)
	}

	_, err = blocklist.ParseFile(filepath.Join(dir, "missing.txt"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "blocklist: open ") {
		t.Fatalf("ParseFile(missing) error = %v, want a blocklist: open ... not-exist error", err)
	}
}
