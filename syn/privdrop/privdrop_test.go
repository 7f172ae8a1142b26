package privdrop

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLookupUser(t *testing.T) {
	passwd := filepath.Join(t.TempDir(), "passwd")
	os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/bash\n"+
		"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"+
		"short:x:12\n"+
		"broken:x:12:zz:broken:/:/bin/false\n"), 0o644)
	tests := []struct {
		name    string
		want    User
		unknown bool
		err     bool
	}{
		{name: "nobody", want: User{Name: "nobody", UID: 65534, GID: 65534}},
		{name: "65534", want: User{Name: "65534", UID: 65534, GID: 65534}},
		{name: "root", want: User{Name: "root"}},
		{name: "nosuch", unknown: true},
		{name: "short", unknown: true}, // too few fields: not an entry
		{name: "broken", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := os.Open(passwd)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := lookupUser(f, tt.name)
			var ue *UnknownUserError
			switch {
			case tt.unknown:
				if !errors.As(err, &ue) || ue.Name != tt.name {
					t.Fatalf("lookupUser(%q) = %v, %v; want an UnknownUserError", tt.name, got, err)
				}
			case tt.err:
				if err == nil || errors.As(err, &ue) {
					t.Fatalf("lookupUser(%q) = %v, %v; want an error about the entry", tt.name, got, err)
				}
			case err != nil || got != tt.want:
				t.Fatalf("lookupUser(%q) = %+v, %v; want %+v", tt.name, got, err, tt.want)
			}
		})
	}
}

func TestWritableBy(t *testing.T) {
	top := t.TempDir()
	os.Chmod(filepath.Dir(top), 0o755) // the test's own directory, 0700 when made
	os.Chmod(top, 0o755)
	owned := filepath.Join(top, "owned")
	open := filepath.Join(top, "open")
	os.Mkdir(owned, 0o700)
	os.Mkdir(open, 0o777)
	os.Chmod(open, 0o777) // past the umask
	st, err := os.Stat(owned)
	if err != nil {
		t.Fatal(err)
	}
	uid, gid := statOwner(st)
	stranger := uid + 4242
	for _, tt := range []struct {
		dir      string
		uid, gid int
		want     bool
	}{
		{owned, uid, gid, true},
		{owned, stranger, stranger, false},
		{open, stranger, stranger, true},
		{filepath.Join(top, "missing"), uid, gid, false},
	} {
		if got := WritableBy(tt.dir, tt.uid, tt.gid); got != tt.want {
			t.Errorf("WritableBy(%s, %d, %d) = %v, want %v", tt.dir, tt.uid, tt.gid, got, tt.want)
		}
	}
	// A directory the user may write but not reach.
	os.Chmod(top, 0o700)
	defer os.Chmod(top, 0o755)
	if WritableBy(open, stranger, stranger) {
		t.Errorf("WritableBy(%s) for a user who cannot search %s: true", open, top)
	}
}
