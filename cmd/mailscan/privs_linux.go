package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dropPrivileges ends the process's privileges once its raw sockets are
// open: with a user name, it switches every thread to that user (which
// clears all capabilities); in any case it empties the capability sets and
// the bounding set of every thread and sets no_new_privs, so that nothing
// the process runs later (the banner stage's TCP and TLS dialogues with
// untrusted servers) has raw-socket rights or can regain them.
//
// Capabilities are per thread in Linux; they are changed on all of the Go
// runtime's threads at once with syscall.AllThreadsSyscall, which a binary
// linked with cgo cannot use: build mailscan with CGO_ENABLED=0, or name a
// user, whose switch glibc applies to every thread.
func dropPrivileges(user string) (string, error) {
	uid, gid := -1, -1
	if user != "" {
		var err error
		if uid, gid, err = lookupUser(user); err != nil {
			return "", err
		}
	}
	// The bounding set can only be emptied while CAP_SETPCAP is held: first.
	capsErr := allThreads(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, 0)
	if capsErr == nil {
		for c := uintptr(1); c <= 63; c++ {
			if err := allThreads(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, c); err != nil {
				if errors.Is(err, syscall.EINVAL) {
					break // past the last capability this kernel knows
				}
				capsErr = err
				break
			}
		}
	}
	if errors.Is(capsErr, syscall.EPERM) {
		// Not root (the binary has CAP_NET_RAW as a file capability): the
		// bounding set stays, but emptying the sets below and no_new_privs
		// leave no way to use or regain it.
		capsErr = nil
	}
	if user != "" {
		if err := syscall.Setgroups([]int{gid}); err != nil {
			return "", fmt.Errorf("--user %s: setgroups: %w", user, err)
		}
		if err := syscall.Setgid(gid); err != nil {
			return "", fmt.Errorf("--user %s: setgid: %w", user, err)
		}
		// Leaving uid 0 clears every capability of every thread.
		if err := syscall.Setuid(uid); err != nil {
			return "", fmt.Errorf("--user %s: setuid: %w", user, err)
		}
	}
	switch {
	case capsErr == nil:
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := allThreads(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0]))); err != nil {
			return "", fmt.Errorf("capset: %w", err)
		}
		if err := allThreads(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1); err != nil {
			return "", fmt.Errorf("no_new_privs: %w", err)
		}
	case errors.Is(capsErr, syscall.ENOTSUP) && uid > 0:
		// A cgo binary: glibc applied the user switch to every thread,
		// which cleared the capabilities.
		unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
	case errors.Is(capsErr, syscall.ENOTSUP):
		return "", errors.New("cannot drop capabilities in a binary built with cgo: build mailscan with CGO_ENABLED=0, or give --user")
	default:
		return "", fmt.Errorf("dropping capabilities: %w", capsErr)
	}
	return privilegeSummary(), nil
}

// allThreads runs a system call on every thread of the Go runtime.
func allThreads(trap, a1, a2 uintptr) error {
	if _, _, e := syscall.AllThreadsSyscall(trap, a1, a2, 0); e != 0 {
		return e
	}
	return nil
}

// lookupUser reads /etc/passwd (not the C library: the binary must not need
// cgo) for name or a numeric uid.
func lookupUser(name string) (uid, gid int, err error) {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return 0, 0, fmt.Errorf("--user %s: %w", name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 4 || (fields[0] != name && fields[2] != name) {
			continue
		}
		uid, err1 := strconv.Atoi(fields[2])
		gid, err2 := strconv.Atoi(fields[3])
		if err1 != nil || err2 != nil {
			return 0, 0, fmt.Errorf("--user %s: bad /etc/passwd entry", name)
		}
		return uid, gid, nil
	}
	return 0, 0, usagef("--user %s: no such user in /etc/passwd", name)
}

// privilegeSummary reads the process's user and effective capabilities as
// the kernel sees them, for the log and the metadata.
func privilegeSummary() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	var uid, capEff string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			uid = strings.Fields(v)[0]
		}
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			capEff = strings.TrimSpace(v)
		}
	}
	return fmt.Sprintf("uid %s, effective capabilities %s", uid, capEff)
}

// statOwner returns the owner and group of a file.
func statOwner(st os.FileInfo) (uid, gid int) {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(s.Uid), int(s.Gid)
	}
	return -1, -1
}
