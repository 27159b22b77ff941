package loader

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("loader: batches closed")

// maxSubstitutes bounds how many videos a training slot tries before giving up.
const maxSubstitutes = 64

// slot is one batch being made: the workers fill examples, the consumer waits on ready.
type slot struct {
	pos       []int // epoch positions of the batch's examples
	examples  []Example
	idx       []int   // sample index actually used per example
	errs      []error // per example (training: fatal; evaluation: dropped)
	remaining int
	mu        sync.Mutex
	ready     chan struct{}
}

// job asks a worker for example i of a slot.
type job struct {
	s *slot
	i int
}

// pass is one running Epoch or Iterate.
type pass struct {
	l       *Loader
	epoch   int
	order   []int
	train   bool
	pending chan *slot
	jobs    chan job
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
	started time.Time
	err     error
}

// start launches the feeder and the workers for batches skip..nb-1 of order.
func (l *Loader) start(epoch, skip int, order []int, nb int, train bool) *pass {
	p := &pass{
		l: l, epoch: epoch, order: order, train: train,
		pending: make(chan *slot, l.cfg.Prefetch),
		jobs:    make(chan job, l.cfg.BatchSize),
		done:    make(chan struct{}),
		started: time.Now(),
	}
	p.wg.Add(1 + l.cfg.Workers)
	go p.feed(skip, nb)
	for range l.cfg.Workers {
		go p.work()
	}
	return p
}

// feed queues the slots in order and their jobs, at most Prefetch slots ahead.
func (p *pass) feed(skip, nb int) {
	defer p.wg.Done()
	defer close(p.jobs)
	defer close(p.pending)
	b := p.l.cfg.BatchSize
	for k := skip; k < nb; k++ {
		lo, hi := k*b, min((k+1)*b, len(p.order))
		s := &slot{pos: make([]int, hi-lo), examples: make([]Example, hi-lo), idx: make([]int, hi-lo),
			errs: make([]error, hi-lo), remaining: hi - lo, ready: make(chan struct{})}
		for i := range s.pos {
			s.pos[i] = lo + i
		}
		select {
		case p.pending <- s:
		case <-p.done:
			return
		}
		for i := range s.pos {
			select {
			case p.jobs <- job{s, i}:
			case <-p.done:
				return
			}
		}
	}
}

// work makes examples until the jobs run out or the pass closes.
func (p *pass) work() {
	defer p.wg.Done()
	for {
		select {
		case j, ok := <-p.jobs:
			if !ok {
				return
			}
			t0 := time.Now()
			ex, idx, err := p.example(j.s.pos[j.i])
			p.l.busyNs.Add(int64(time.Since(t0)))
			j.s.mu.Lock()
			j.s.examples[j.i], j.s.idx[j.i], j.s.errs[j.i] = ex, idx, err
			j.s.remaining--
			if j.s.remaining == 0 {
				close(j.s.ready)
			}
			j.s.mu.Unlock()
		case <-p.done:
			return
		}
	}
}

// example makes the example at epoch position pos. In training a failing
// video is replaced by the following videos of the order, each substitute
// with its own random stream; in evaluation the failure is returned.
func (p *pass) example(pos int) (Example, int, error) {
	l := p.l
	n := len(p.order)
	orig := p.order[pos]
	tries := 1
	if p.train {
		tries = min(n, maxSubstitutes)
	}
	var lastErr error
	for a := range tries {
		idx := p.order[(pos+a)%n]
		ex, err := l.makeExample(idx, ExampleRNG(l.cfg.Seed, p.epoch, orig, a))
		if err == nil {
			l.nEx.Add(1)
			if a > 0 {
				l.nSubst.Add(1)
			}
			return ex, idx, nil
		}
		l.markBad(idx, err)
		lastErr = err
	}
	if p.train {
		return Example{}, orig, fmt.Errorf("loader: %d videos in a row failed from %s (last: %v); check the dataset or run vidrep prepare", tries, l.cfg.Samples[orig].Path, lastErr)
	}
	l.nDrop.Add(1)
	return Example{}, orig, lastErr
}

// Next returns the next batch, io.EOF after the last, ErrClosed after Close.
func (p *pass) Next() (*Batch, error) {
	if p.err != nil {
		return nil, p.err
	}
	select {
	case <-p.done:
		return nil, ErrClosed
	default:
	}
	t0 := time.Now()
	defer func() { p.l.waitNs.Add(int64(time.Since(t0))) }()
	for {
		var s *slot
		var ok bool
		select {
		case s, ok = <-p.pending:
		case <-p.done:
			return nil, ErrClosed
		}
		if !ok {
			p.err = io.EOF
			return nil, io.EOF
		}
		select {
		case <-s.ready:
		case <-p.done:
			return nil, ErrClosed
		}
		b, err := p.stack(s)
		if err != nil {
			p.err = err
			return nil, err
		}
		if b == nil { // evaluation batch whose videos all failed
			continue
		}
		p.l.nBatch.Add(1)
		return b, nil
	}
}

// Close stops the workers and waits for them. It is safe to call twice.
func (p *pass) Close() error {
	p.once.Do(func() {
		close(p.done)
		p.wg.Wait()
		p.l.wallNs.Add(int64(time.Since(p.started)))
	})
	return nil
}

// stack builds the Batch of a finished slot: training fails on any error,
// evaluation leaves failed examples out (nil when none remain).
func (p *pass) stack(s *slot) (*Batch, error) {
	var exs []Example
	var idx []int
	for i, ex := range s.examples {
		if s.errs[i] != nil {
			if p.train {
				return nil, s.errs[i]
			}
			continue
		}
		exs = append(exs, ex)
		idx = append(idx, s.idx[i])
	}
	if len(exs) == 0 {
		return nil, nil
	}
	return Stack(exs, idx)
}

// Stack stacks examples of identical structure into a Batch; index gives
// each example's sample index.
func Stack(exs []Example, index []int) (*Batch, error) {
	first := exs[0]
	nv, nt := len(first.Views), len(first.Targets)
	v0 := first.Views[0]
	b := &Batch{
		Views:     make([][]float32, nv),
		ViewShape: [5]int{len(exs), v0.T, v0.H, v0.W, 3},
		Targets:   make([][]int32, nt),
		Index:     append([]int(nil), index...),
	}
	per := v0.T * v0.H * v0.W * 3
	for v := range b.Views {
		b.Views[v] = make([]float32, len(exs)*per)
	}
	for t := range b.Targets {
		b.Targets[t] = make([]int32, len(exs))
	}
	for e, ex := range exs {
		if len(ex.Views) != nv || len(ex.Targets) != nt {
			return nil, fmt.Errorf("loader: example %d has %d views and %d targets, example 0 has %d and %d", e, len(ex.Views), len(ex.Targets), nv, nt)
		}
		for v, view := range ex.Views {
			if view.T != v0.T || view.H != v0.H || view.W != v0.W {
				return nil, fmt.Errorf("loader: example %d view %d is %dx%dx%d, want %dx%dx%d", e, v, view.T, view.H, view.W, v0.T, v0.H, v0.W)
			}
			copy(b.Views[v][e*per:(e+1)*per], view.Data)
		}
		for t, target := range ex.Targets {
			b.Targets[t][e] = target
		}
	}
	return b, nil
}
