package privdrop

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"mailscan/scripts/lab/labtest"
)

// childEnv makes the test binary a child that drops its privileges (to the
// user named in the variable, or none when it is "-") and reports.
const childEnv = "PRIVDROP_TEST_CHILD"

// threads is how many goroutines the child locks to OS threads of their own
// before the drop: each must lose its privileges, not only the caller's.
const threads = 8

// childReport is what the child prints as JSON.
type childReport struct {
	Summary string
	Err     string
	Threads int               // threads seen in /proc/self/task after the drop
	Status  map[string]string // the fields that differ from one thread to another, joined
	RawErrs []string          // per locked thread: the error of socket(AF_PACKET)
}

func TestMain(m *testing.M) {
	if user, ok := os.LookupEnv(childEnv); ok {
		os.Exit(child(user))
	}
	os.Exit(m.Run())
}

// child drops the privileges with threads goroutines parked on threads of
// their own, then has each of them try to open a packet socket.
func child(user string) int {
	type req struct{ done chan error }
	reqs := make([]chan req, threads)
	for i := range reqs {
		reqs[i] = make(chan req)
		go func(c chan req) {
			runtime.LockOSThread() // never unlocked: this thread stays this goroutine's
			for r := range c {
				fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
				if err == nil {
					unix.Close(fd)
				}
				r.done <- err
			}
		}(reqs[i])
	}
	// Before the drop every thread can open one: the test would prove nothing otherwise.
	var rep childReport
	for _, c := range reqs {
		r := req{make(chan error)}
		c <- r
		if err := <-r.done; err != nil {
			rep.Err = fmt.Sprintf("before the drop: socket(AF_PACKET): %v", err)
		}
	}
	var u *User
	if user != "-" {
		uu, err := LookupUser(user)
		if err != nil {
			rep.Err = err.Error()
		}
		u = &uu
	}
	if rep.Err == "" {
		var err error
		if rep.Summary, err = Drop(u); err != nil {
			rep.Err = err.Error()
		}
	}
	for _, c := range reqs {
		r := req{make(chan error)}
		c <- r
		rep.RawErrs = append(rep.RawErrs, fmt.Sprint(<-r.done))
	}
	rep.Status = map[string]string{}
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	rep.Threads = len(tasks)
	seen := map[string]map[string]bool{}
	for _, path := range tasks {
		st, err := readStatus(path)
		if err != nil {
			continue
		}
		for _, k := range []string{"Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs"} {
			if seen[k] == nil {
				seen[k] = map[string]bool{}
			}
			if !seen[k][st[k]] {
				seen[k][st[k]] = true
				rep.Status[k] = strings.TrimPrefix(rep.Status[k]+"|"+st[k], "|")
			}
		}
	}
	json.NewEncoder(os.Stdout).Encode(rep)
	return 0
}

// TestIntegrationDrop runs a child that parks goroutines on threads of their
// own, drops its privileges, and reports every thread's credentials and
// whether each parked thread can still open a packet socket. It runs the
// test binary itself (built with cgo under -race) and the same test built
// with CGO_ENABLED=0, without and with a user switch: libcap's psx must
// reach every thread in both builds.
func TestIntegrationDrop(t *testing.T) {
	labtest.NeedRoot(t, "unshare")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bins := map[string]string{"this binary": self}
	for _, cgo := range []string{"0", "1"} {
		bin := filepath.Join(t.TempDir(), "privdrop.test")
		build := exec.Command("go", "test", "-c", "-o", bin, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
		if out, err := build.CombinedOutput(); err != nil {
			if cgo == "1" && strings.Contains(string(out), "gcc") {
				labtest.SkipOrFail(t, "no C compiler for the cgo build: %s", out)
			}
			t.Fatalf("go test -c with CGO_ENABLED=%s: %v\n%s", cgo, err, out)
		}
		bins["CGO_ENABLED="+cgo] = bin
	}
	for name, bin := range bins {
		for _, user := range []string{"-", "nobody"} {
			t.Run(name+"/user="+user, func(t *testing.T) {
				// A network namespace of its own: the packet sockets see no interface of the host.
				cmd := exec.Command("unshare", "--net", "--", bin)
				cmd.Env = append(os.Environ(), childEnv+"="+user)
				out, err := cmd.Output()
				if err != nil {
					var ee *exec.ExitError
					errors.As(err, &ee)
					t.Fatalf("child: %v\n%s%s", err, out, ee.Stderr)
				}
				var rep childReport
				if err := json.Unmarshal(out, &rep); err != nil {
					t.Fatalf("child said %q: %v", out, err)
				}
				checkChild(t, rep, user)
			})
		}
	}
}

func checkChild(t *testing.T, rep childReport, user string) {
	t.Helper()
	if rep.Err != "" {
		t.Fatalf("child: %s", rep.Err)
	}
	uid := "0"
	if user != "-" {
		uid = "65534"
	}
	if want := "uid " + uid + ", effective capabilities 0000000000000000"; rep.Summary != want {
		t.Errorf("summary %q, want %q", rep.Summary, want)
	}
	if rep.Threads <= threads {
		t.Errorf("%d threads, want more than the %d parked ones", rep.Threads, threads)
	}
	zero := "0000000000000000"
	want := map[string]string{"CapInh": zero, "CapPrm": zero, "CapEff": zero, "CapBnd": zero, "CapAmb": zero, "NoNewPrivs": "1",
		"Uid": strings.Repeat(uid+"\t", 3) + uid}
	if user != "-" {
		want["Gid"] = "65534\t65534\t65534\t65534"
		want["Groups"] = ""
	}
	for k, v := range want {
		if rep.Status[k] != v {
			t.Errorf("threads' %s: %q, want %q on every thread", k, rep.Status[k], v)
		}
	}
	for i, e := range rep.RawErrs {
		if e != syscall.EPERM.Error() {
			t.Errorf("parked thread %d: socket(AF_PACKET) after the drop: %s, want %v", i, e, syscall.EPERM)
		}
	}
}
