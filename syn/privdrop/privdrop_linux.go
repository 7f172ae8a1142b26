package privdrop

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
	"kernel.org/pub/linux/libs/security/libcap/cap"
)

// Drop ends the process's privileges on every thread: with u, it switches
// every thread to u's uid and gid (and no supplementary groups); in any
// case it empties the effective, permitted, inheritable and ambient
// capability sets and the bounding set, and sets no_new_privs, so that not
// even an execve of a set-uid or file-capability binary gives a capability
// back. It returns the process's credentials as the kernel reports them
// afterwards, "uid 65534, effective capabilities 0000000000000000", for a
// log or a scan's metadata.
//
// The bounding set can only be emptied with CAP_SETPCAP: a process that is
// not root and runs with CAP_NET_RAW as a file capability keeps it (with
// every other set empty and no_new_privs, it is of no use). Drop checks
// every thread afterwards and returns an error if any kept a capability,
// the old uid, or no no_new_privs.
func Drop(u *User) (string, error) {
	// The bounding set first: the user switch would take CAP_SETPCAP away.
	keptBound := false
	for v := cap.Value(0); v < cap.MaxBits(); v++ {
		if err := cap.DropBound(v); err != nil {
			if !errors.Is(err, syscall.EPERM) {
				return "", fmt.Errorf("privdrop: dropping %s from the bounding set: %w", v, err)
			}
			keptBound = true
			break
		}
	}
	if u != nil {
		if err := cap.SetGroups(u.GID); err != nil {
			return "", fmt.Errorf("privdrop: switching to gid %d: %w", u.GID, err)
		}
		if err := cap.SetUID(u.UID); err != nil {
			return "", fmt.Errorf("privdrop: switching to uid %d: %w", u.UID, err)
		}
	}
	if err := cap.NewSet().SetProc(); err != nil {
		return "", fmt.Errorf("privdrop: emptying the capability sets: %w", err)
	}
	// Emptying the permitted set has cleared the ambient set already, on a
	// kernel that has one; nothing more to do there.
	if _, err := cap.Prctlw(unix.PR_SET_NO_NEW_PRIVS, 1); err != nil {
		return "", fmt.Errorf("privdrop: no_new_privs: %w", err)
	}
	uid := os.Getuid()
	if err := checkThreads(uid, keptBound); err != nil {
		return "", err
	}
	return Summary(), nil
}

// checkThreads reads the credentials of every thread of the process from
// /proc and returns an error naming the first thread that still has a
// capability (in its bounding set too, unless keptBound), a uid other than
// uid, or no no_new_privs.
func checkThreads(uid int, keptBound bool) error {
	tasks, err := filepath.Glob("/proc/self/task/*/status")
	if err != nil || len(tasks) == 0 {
		return fmt.Errorf("privdrop: cannot list the threads in /proc/self/task: %v", err)
	}
	want := map[string]string{
		"CapInh":     "0000000000000000",
		"CapPrm":     "0000000000000000",
		"CapEff":     "0000000000000000",
		"CapAmb":     "0000000000000000",
		"NoNewPrivs": "1",
	}
	if !keptBound {
		want["CapBnd"] = "0000000000000000"
	}
	wantUID := fmt.Sprint(uid)
	for _, path := range tasks {
		st, err := readStatus(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // the thread has exited
			}
			return fmt.Errorf("privdrop: %w", err)
		}
		for k, v := range want {
			// CapAmb is missing before Linux 4.3, where there is no ambient set.
			if got, ok := st[k]; (ok || k != "CapAmb") && got != v {
				return fmt.Errorf("privdrop: thread %s kept privileges: %s %q, want %q", filepath.Base(filepath.Dir(path)), k, got, v)
			}
		}
		for i, id := range strings.Fields(st["Uid"]) {
			if id != wantUID {
				return fmt.Errorf("privdrop: thread %s has uid %s (field %d of %q), want %s", filepath.Base(filepath.Dir(path)), id, i, st["Uid"], wantUID)
			}
		}
	}
	return nil
}

// readStatus reads a /proc status file into its "Key:\tvalue" pairs.
func readStatus(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out, nil
}

// Summary is the process's real uid and effective capabilities as the
// kernel reports them in /proc/self/status: "uid 65534, effective
// capabilities 0000000000000000". It is empty when /proc cannot be read.
func Summary() string {
	st, err := readStatus("/proc/self/status")
	if err != nil {
		return ""
	}
	uid, _, _ := strings.Cut(st["Uid"], "\t")
	return fmt.Sprintf("uid %s, effective capabilities %s", strings.TrimSpace(uid), st["CapEff"])
}

func statOwner(st os.FileInfo) (uid, gid int) {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(s.Uid), int(s.Gid)
	}
	return -1, -1
}
