package privdrop

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// User is the account a process switches to when it drops its privileges.
type User struct {
	Name     string // as given: a name or a numeric uid
	UID, GID int
}

// UnknownUserError reports a user name that /etc/passwd does not hold.
type UnknownUserError struct {
	Name string
}

func (e *UnknownUserError) Error() string {
	return fmt.Sprintf("privdrop: no user %q in /etc/passwd", e.Name)
}

// LookupUser finds name, a user name or a numeric uid, in /etc/passwd. It
// reads the file itself rather than asking the C library, so that a binary
// built without cgo finds users too (NSS sources other than files, such as
// LDAP, are not consulted). A name that is not there is an
// *UnknownUserError.
func LookupUser(name string) (User, error) {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return User{}, fmt.Errorf("privdrop: user %s: %w", name, err)
	}
	defer f.Close()
	return lookupUser(f, name)
}

func lookupUser(f *os.File, name string) (User, error) {
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 4 || (fields[0] != name && fields[2] != name) {
			continue
		}
		uid, err1 := strconv.Atoi(fields[2])
		gid, err2 := strconv.Atoi(fields[3])
		if err1 != nil || err2 != nil || uid < 0 || gid < 0 {
			return User{}, fmt.Errorf("privdrop: %s:%d: bad entry for user %s", f.Name(), n, name)
		}
		return User{Name: name, UID: uid, GID: gid}, nil
	}
	if err := sc.Err(); err != nil {
		return User{}, fmt.Errorf("privdrop: %s: %w", f.Name(), err)
	}
	return User{}, &UnknownUserError{Name: name}
}

// WritableBy reports whether uid/gid may create files in dir, judged by the
// mode bits of dir and of every directory above it (ACLs aside): whether a
// process will still be able to replace a file there once it has dropped
// its privileges.
func WritableBy(dir string, uid, gid int) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for d := dir; ; d = filepath.Dir(d) {
		need := os.FileMode(0o1) // search
		if d == dir {
			need = 0o3 // search and write
		}
		if !allowedBy(d, uid, gid, need) {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

// allowedBy reports whether uid/gid have the permission bits need (as the
// "other" triplet: 1 search, 2 write) on path.
func allowedBy(path string, uid, gid int, need os.FileMode) bool {
	st, err := os.Stat(path)
	if err != nil {
		return false
	}
	owner, group := statOwner(st)
	mode := st.Mode().Perm()
	switch {
	case owner == uid:
		mode >>= 6
	case group == gid:
		mode >>= 3
	}
	return mode&need == need
}
