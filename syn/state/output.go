package state

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// Output is an append-only output file of a resumable scan (the hit list,
// the results). It counts the bytes the operating system accepted, so that
// a Checkpointer can mark it, and it can be fsynced before a state that
// relies on it is written. Its Write is not safe for concurrent use (each
// output has one writer); Offset and Sync are.
type Output struct {
	f    *os.File
	role string
	size atomic.Int64 // bytes of the file the OS accepted
}

// CreateOutput creates or truncates the file at path.
func CreateOutput(path, role string) (*Output, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return &Output{f: f, role: role}, nil
}

// AppendOutput opens the file at path for a resumed run: a last line cut
// short by a crash is removed first (see RepairTail), and the file must
// not be shorter than mark (it would have been changed since the state was
// written).
func AppendOutput(path, role string, mark int64) (*Output, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	size, err := RepairTail(f)
	if err == nil && size < mark {
		err = fmt.Errorf("state: %s is %d bytes, shorter than the %d the resume file records: it was changed since", path, size, mark)
	}
	if err == nil {
		_, err = f.Seek(size, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	o := &Output{f: f, role: role}
	o.size.Store(size)
	return o, nil
}

// Write appends p and counts what was written.
func (o *Output) Write(p []byte) (int, error) {
	n, err := o.f.Write(p)
	o.size.Add(int64(n))
	return n, err
}

// Offset returns the number of bytes of the file the OS has accepted.
func (o *Output) Offset() int64 { return o.size.Load() }

// Role returns the role given when the output was opened.
func (o *Output) Role() string { return o.role }

// Name returns the file name.
func (o *Output) Name() string { return o.f.Name() }

// Sync commits the file to stable storage.
func (o *Output) Sync() error { return o.f.Sync() }

// Close closes the file.
func (o *Output) Close() error { return o.f.Close() }

// RepairTail cuts f after its last newline: a line without its newline is
// a write cut short (a crash, a full disk), and appending after it would
// weld two records into one bad line. It returns the new size.
func RepairTail(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	end, err := completeEnd(f)
	if err != nil || end == st.Size() {
		return end, err
	}
	return end, f.Truncate(end)
}

// ReadBack returns a reader of the complete lines of the file at path from
// mark on: what an earlier run wrote after its state's mark, without a last
// line cut short. With header, the file's first line (a CSV header) comes
// first, so that a reader knows the columns. A missing file reads as empty
// when mark is 0.
func ReadBack(path string, mark int64, header bool) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) && mark <= 0 {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	if err != nil {
		return nil, err
	}
	end, err := completeEnd(f)
	if err == nil && end < mark {
		err = fmt.Errorf("state: %s holds %d bytes of complete lines, less than the %d the resume file records: it was changed since", path, end, mark)
	}
	var first []byte
	if err == nil && header && mark > 0 {
		first, err = firstLine(f)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	r := io.MultiReader(bytes.NewReader(first), io.NewSectionReader(f, max(mark, 0), end-max(mark, 0)))
	return struct {
		io.Reader
		io.Closer
	}{r, f}, nil
}

// completeEnd returns the offset just after the file's last newline.
func completeEnd(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 64<<10)
	for end := st.Size(); end > 0; {
		n := min(int64(len(buf)), end)
		if _, err := f.ReadAt(buf[:n], end-n); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return end - n + int64(i) + 1, nil
		}
		end -= n
	}
	return 0, nil
}

// firstLine returns the file's first line with its newline (at most 64 KiB).
func firstLine(f *os.File) ([]byte, error) {
	buf := make([]byte, 64<<10)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
		return buf[:i+1], nil
	}
	return nil, nil
}
