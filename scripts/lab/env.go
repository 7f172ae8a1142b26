package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Env is a running lab as `lab.sh env` describes it: LAB_PREFIX, LAB_DIR,
// the namespaces (LAB_SCAN_NS, LAB_TARGET_NS, ...), the ranges, the ports
// and the files of the truth (LAB_TRUTH, LAB_BLOCKLIST, ...).
type Env map[string]string

// Script is scripts/lab.sh with args, for the lab of prefix.
func Script(prefix string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(Root(), "scripts", "lab.sh"), args...)
	cmd.Env = append(os.Environ(), "LAB_PREFIX="+prefix)
	return cmd
}

// Root is the repository's top directory, found from this file's place in
// it (tests run from their package's directory).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Up builds the lab of prefix (lab.sh up, which replaces a lab of the same
// prefix) and returns its Env. It needs root.
func Up(prefix string) (Env, error) {
	if out, err := Script(prefix, "up").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("lab.sh up: %v\n%s", err, out)
	}
	out, err := Script(prefix, "env").Output()
	if err != nil {
		return nil, fmt.Errorf("lab.sh env: %v", err)
	}
	env := Env{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env, nil
}

// Down removes the lab of prefix: its namespaces, processes and directory.
func Down(prefix string) error {
	if out, err := Script(prefix, "down").CombinedOutput(); err != nil {
		return fmt.Errorf("lab.sh down: %v\n%s", err, out)
	}
	return nil
}

// Truth loads the ground truth the lab serves.
func (e Env) Truth() (*Truth, error) { return Load(e["LAB_DIR"]) }
