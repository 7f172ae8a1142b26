package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Input is one input of BuildInputs: a name for the report and for the
// location of bad lines, and a way to open it.
type Input struct {
	// Name names the input ("results.jsonl", "stdin").
	Name string
	// Open returns the input's bytes, compressed or not. It is called once,
	// and a second time only when Reopen is set.
	Open func() (io.ReadCloser, error)
	// Reopen tells that Open may be called again and gives the same bytes
	// (a file, not a pipe): it lets Build take out records of hosts flagged
	// answers_all_ports after they were counted.
	Reopen bool
}

// FileInput is the Input of a file; "-" is standard input.
func FileInput(path string) Input {
	if path == "-" {
		return Input{Name: "stdin", Open: func() (io.ReadCloser, error) { return io.NopCloser(os.Stdin), nil }}
	}
	return Input{Name: path, Reopen: true, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}

// ReaderInput is the Input of a reader, read once.
func ReaderInput(r io.Reader, name string) Input {
	used := false
	return Input{Name: name, Open: func() (io.ReadCloser, error) {
		if used {
			return nil, errors.New("report: " + name + " cannot be read twice")
		}
		used = true
		return io.NopCloser(r), nil
	}}
}

// The magic numbers of the compressed formats read directly.
var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// decompress returns r uncompressed when it starts with the gzip or zstd
// magic number, whatever its name, and as it is otherwise.
func decompress(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		return z, func() { z.Close() }, nil
	case bytes.HasPrefix(head, zstdMagic):
		z, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(2), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nil, err
		}
		return z, z.Close, nil
	}
	return br, func() {}, nil
}

// Pipeline sizes. A block is what one read fills; a batch is the whole
// lines of a block (plus the end of the line the previous block cut), the
// unit a decoder takes.
const (
	blockSize = 1 << 20
	blockPad  = 64 << 10 // room before a block for the previous block's tail
)

// batch is a run of whole lines of one input, numbered so that the
// aggregator takes batches in input order.
type batch struct {
	seq   int64
	input int
	line  int64  // line number of the first line, 1-based
	data  []byte // whole lines; the last may lack its newline at the end of an input
	buf   *[]byte
	long  bool // a line longer than MaxLineBytes, skipped: data is empty
	recs  []record
	bad   []BadLine // line and reason; Input is set by the aggregator
	lines int64     // non-blank lines
}

// pass reads inputs through the stages (read, split into lines, decode in
// parallel) and hands each batch's records to add in input order. Only a
// read error of an input stops it.
func pass(inputs []Input, add func(b *batch)) error {
	workers := runtime.GOMAXPROCS(0)
	// A fixed set of block buffers and record slices, reused: every one in
	// flight is in a channel or a stage, so a few dozen cover the
	// pipeline, and nothing is allocated per block once it runs.
	pool := newBufPool(8 + 6*workers)
	recs := make(chan []record, 8+6*workers)
	type block struct {
		input int
		buf   *[]byte
		n     int
		end   bool // the input ended after this block
	}
	blocks := make(chan block, 4)
	batches := make(chan *batch, workers*2)
	decoded := make(chan *batch, workers*2)
	stop := make(chan struct{})
	var readErr error

	// Read.
	go func() {
		defer close(blocks)
		for i, in := range inputs {
			if err := readInput(in, func(buf *[]byte, n int) bool {
				select {
				case blocks <- block{input: i, buf: buf, n: n}:
					return true
				case <-stop:
					return false
				}
			}, pool); err != nil {
				readErr = err
				return
			}
			select {
			case blocks <- block{input: i, end: true}:
			case <-stop:
				return
			}
		}
	}()

	// Split into whole lines.
	go func() {
		defer close(batches)
		var (
			seq      int64
			line     int64 = 1
			carry    []byte
			skipping bool
		)
		emit := func(b *batch) bool {
			b.seq = seq
			seq++
			select {
			case batches <- b:
				return true
			case <-stop:
				return false
			}
		}
		for bl := range blocks {
			if bl.end {
				if len(carry) > 0 && !skipping {
					data := append([]byte(nil), carry...)
					if !emit(&batch{input: bl.input, line: line, data: data}) {
						return
					}
				} else if skipping {
					if !emit(&batch{input: bl.input, line: line, long: true}) {
						return
					}
				}
				carry, skipping, line = carry[:0], false, 1
				continue
			}
			data := (*bl.buf)[blockPad : blockPad+bl.n]
			if skipping {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					pool.Put(bl.buf)
					continue
				}
				if !emit(&batch{input: bl.input, line: line, long: true}) {
					return
				}
				line++
				skipping = false
				data = data[i+1:]
			}
			last := bytes.LastIndexByte(data, '\n')
			if last < 0 {
				if len(carry)+len(data) > MaxLineBytes {
					skipping, carry = true, carry[:0]
				} else {
					carry = append(carry, data...)
				}
				pool.Put(bl.buf)
				continue
			}
			var b batch
			b.input, b.line = bl.input, line
			// data starts past the pad by what a skipped line took.
			at := blockPad + bl.n - len(data)
			if len(carry) <= at {
				copy((*bl.buf)[at-len(carry):], carry)
				b.data = (*bl.buf)[at-len(carry) : at+last+1]
				b.buf = bl.buf
			} else {
				b.data = append(append([]byte(nil), carry...), data[:last+1]...)
			}
			line += int64(bytes.Count(b.data, []byte{'\n'}))
			carry = append(carry[:0], data[last+1:]...)
			if b.buf == nil {
				pool.Put(bl.buf)
			}
			if !emit(&b) {
				return
			}
		}
	}()

	// Decode.
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for b := range batches {
				select {
				case b.recs = <-recs:
				default:
				}
				decodeBatch(b)
				select {
				case decoded <- b:
				case <-stop:
				}
			}
		})
	}
	go func() { wg.Wait(); close(decoded) }()

	// Aggregate in order.
	pending := map[int64]*batch{}
	var next int64
	for b := range decoded {
		pending[b.seq] = b
		for {
			b, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			add(b)
			if b.buf != nil {
				pool.Put(b.buf)
			}
			select {
			case recs <- b.recs[:0]:
			default:
			}
		}
	}
	close(stop)
	return readErr
}

// bufPool hands out at most max block buffers, allocated on first need;
// Get waits when all are in use.
type bufPool struct {
	mu   sync.Mutex
	made int
	max  int
	free chan *[]byte
}

func newBufPool(max int) *bufPool {
	return &bufPool{max: max, free: make(chan *[]byte, max)}
}

func (p *bufPool) Get() *[]byte {
	select {
	case b := <-p.free:
		return b
	default:
	}
	p.mu.Lock()
	if p.made < p.max {
		p.made++
		p.mu.Unlock()
		b := make([]byte, blockPad+blockSize)
		return &b
	}
	p.mu.Unlock()
	return <-p.free
}

func (p *bufPool) Put(b *[]byte) { p.free <- b }

// readInput opens one input and sends its uncompressed bytes in blocks.
func readInput(in Input, send func(buf *[]byte, n int) bool, pool *bufPool) error {
	rc, err := in.Open()
	if err != nil {
		return fmt.Errorf("report: %s: %w", in.Name, err)
	}
	defer rc.Close()
	r, done, err := decompress(rc)
	if err != nil {
		return fmt.Errorf("report: read %s: %w", in.Name, err)
	}
	defer done()
	for {
		buf := pool.Get()
		n, err := io.ReadFull(r, (*buf)[blockPad:])
		if n > 0 {
			if !send(buf, n) {
				return nil
			}
		} else {
			pool.Put(buf)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("report: read %s: %w", in.Name, err)
		}
	}
}

// decodeBatch decodes the lines of a batch into its records and bad lines.
func decodeBatch(b *batch) {
	if b.long {
		b.lines = 1
		b.bad = append(b.bad, BadLine{Line: b.line, Err: fmt.Sprintf("line longer than %d bytes", MaxLineBytes)})
		return
	}
	data := b.data
	line := b.line
	if b.recs == nil {
		b.recs = make([]record, 0, len(data)/1024+1)
	}
	for len(data) > 0 {
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		l = trimCR(l)
		if isBlank(l) {
			line++
			continue
		}
		b.lines++
		if len(l) > MaxLineBytes {
			b.bad = append(b.bad, BadLine{Line: line, Err: fmt.Sprintf("line longer than %d bytes", MaxLineBytes)})
			line++
			continue
		}
		b.recs = append(b.recs, record{})
		r := &b.recs[len(b.recs)-1]
		if why := decodeLine(l, r); why != "" {
			b.recs = b.recs[:len(b.recs)-1]
			b.bad = append(b.bad, BadLine{Line: line, Err: why})
		}
		line++
	}
}

func trimCR(l []byte) []byte {
	for len(l) > 0 && l[len(l)-1] == '\r' {
		l = l[:len(l)-1]
	}
	return l
}

// isBlank reports whether a line holds only white space.
func isBlank(l []byte) bool {
	for _, c := range l {
		if !isSpace(c) && c != '\v' && c != '\f' {
			return len(bytes.TrimSpace(l)) == 0
		}
	}
	return true
}
