package evaluate

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash"
	"os"
	"sort"
	"sync"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/video"
)

// DefaultFeatureCacheBytes is the budget of SharedFeatureCache: the features
// of the demo's test set (600 clips of 64 numbers) take 150 KB, UCF101's
// split-1 test set at 10 clips x 3 crops of R3D-18 about 230 MB, which is
// then extracted again by each probe rather than kept.
const DefaultFeatureCacheBytes = 128 << 20

// FeatureCache keeps the per-view features a frozen backbone gave for a test
// set, so that the linear probes of one experiment that share a backbone
// (one pretraining probed at several label budgets and seeds) extract them
// once. An entry is keyed by what the features depend on: the backbone's
// architecture, clip settings and weights (every variable, byte for byte),
// the backend, the inference batch, the views per video, and for each video
// the file the loader reads (the prepare cache's copy where it serves it),
// with its size, modification time and known frame count, or its
// quarantine. Only the process's shared frame cache is keyed as a decoder,
// so a probe with its own Opener extracts its features itself. A probe that
// finds its features gets the bytes it would have computed. Entries are
// never evicted; features that would take the cache past its budget are
// handed to the probes waiting for them but not kept. Safe for concurrent
// use: a probe asking for features being extracted waits for them.
type FeatureCache struct {
	mu      sync.Mutex
	budget  int64
	used    int64
	entries map[[sha256.Size]byte]*featureEntry
}

// featureEntry is one extraction; pv and err are set before done is closed.
type featureEntry struct {
	done chan struct{}
	pv   *perView
	err  error
}

// NewFeatureCache returns an empty cache that keeps at most budget bytes of
// features (0 keeps nothing, so each probe extracts its own).
func NewFeatureCache(budget int64) *FeatureCache {
	return &FeatureCache{budget: budget, entries: map[[sha256.Size]byte]*featureEntry{}}
}

var (
	sharedFeaturesOnce sync.Once
	sharedFeatures     *FeatureCache
)

// SharedFeatureCache is the process's FeatureCache (DefaultFeatureCacheBytes),
// the default of Runtime.Features.
func SharedFeatureCache() *FeatureCache {
	sharedFeaturesOnce.Do(func() { sharedFeatures = NewFeatureCache(DefaultFeatureCacheBytes) })
	return sharedFeatures
}

// features returns the features under key, extracting them when no other
// caller is, and whether another extraction gave them. The result is
// shared: callers must not change it. A caller waiting for another's
// extraction stops when ctx is done; when that extraction failed, the
// waiters try again (one of them extracts).
func (c *FeatureCache) features(ctx context.Context, key [sha256.Size]byte, extract func() (*perView, error)) (*perView, bool, error) {
	for {
		c.mu.Lock()
		e, ok := c.entries[key]
		if !ok {
			e = &featureEntry{done: make(chan struct{})}
			c.entries[key] = e
			c.mu.Unlock()
			c.fill(key, e, extract)
			return e.pv, false, e.err
		}
		c.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		if e.err == nil {
			return e.pv, true, nil
		}
	}
}

// fill runs extract for the entry this caller created, keeps the result
// within the budget, and wakes the callers waiting on it. An entry that
// failed, panicked or is not kept leaves the map, so that later callers
// extract afresh.
func (c *FeatureCache) fill(key [sha256.Size]byte, e *featureEntry, extract func() (*perView, error)) {
	kept := false
	defer func() {
		c.mu.Lock()
		if !kept {
			delete(c.entries, key)
		}
		c.mu.Unlock()
		if e.pv == nil && e.err == nil { // extract panicked: the waiters try again
			e.err = fmt.Errorf("evaluate: feature extraction did not finish")
		}
		close(e.done)
	}()
	e.pv, e.err = extract()
	if e.err != nil {
		return
	}
	c.mu.Lock()
	if size := e.pv.bytes(); c.used+size <= c.budget {
		c.used += size
		kept = true
	}
	c.mu.Unlock()
}

// bytes is the memory the features take.
func (p *perView) bytes() int64 {
	var n int64
	for _, views := range p.Rows {
		for _, row := range views {
			n += int64(len(row)) * 4
		}
	}
	return n + int64(len(p.Index))*8
}

// testFeatures is runViews' features (head false) of a test set, through
// rt.Features when rt reads with the shared frame cache and every video can
// be stat'ed for the key (else extracted here); the bool says whether
// another probe's extraction gave them.
func (n *network) testFeatures(ctx context.Context, rt Runtime, root string, samples []dataset.Sample, clips, crops int) (*perView, bool, error) {
	ld, err := n.viewLoader(rt, root, samples, clips, crops)
	if err != nil {
		return nil, false, err
	}
	extract := func() (*perView, error) { return n.runLoader(ctx, rt, ld, false, "eval") }
	if rt.Features != nil && rt.Opener == video.Opener(video.SharedFrameCache()) {
		if key, err := n.featureKey(rt, ld, clips, crops); err == nil {
			return rt.Features.features(ctx, key, extract)
		}
	}
	pv, err := extract()
	return pv, false, err
}

// featureKey hashes everything the features of ld's videos depend on.
func (n *network) featureKey(rt Runtime, ld *loader.Loader, clips, crops int) ([sha256.Size]byte, error) {
	h := sha256.New()
	spec := n.spec
	spec.Classes, spec.Linear, spec.Init = nil, false, "" // the head's and the record's, not the features'
	js, err := json.Marshal(spec)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	writeField(h, js)
	writeField(h, fmt.Appendf(nil, "%s|%d|%d|%d", n.backend.String(), rt.Batch, clips, crops))
	for i := range ld.Len() {
		path, frames, ok := ld.Source(i)
		if !ok {
			writeField(h, []byte("quarantined"))
			continue
		}
		st, err := os.Stat(path)
		if err != nil {
			return [sha256.Size]byte{}, err
		}
		writeField(h, fmt.Appendf(nil, "%s|%d|%d|%d", path, st.Size(), st.ModTime().UnixNano(), frames))
	}
	if err := n.hashBackbone(h); err != nil {
		return [sha256.Size]byte{}, err
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key, nil
}

// hashBackbone writes every backbone variable's path, shape and bytes to h,
// in path order.
func (n *network) hashBackbone(h hash.Hash) error {
	var paths []string
	for v := range n.store.IterVariables() {
		if v.HasValue() && isBackboneVariable(v.Path()) {
			paths = append(paths, v.Path())
		}
	}
	if len(paths) == 0 {
		return fmt.Errorf("evaluate: no backbone weights to key the features by")
	}
	sort.Strings(paths)
	for _, p := range paths {
		t, err := n.store.GetVariable(p).Value()
		if err != nil {
			return err
		}
		writeField(h, fmt.Appendf(nil, "%s|%s", p, t.Shape()))
		if err := t.ConstBytes(func(b []byte) { writeField(h, b) }); err != nil {
			return err
		}
	}
	return nil
}

// writeField writes b to h behind its length, so that fields cannot run
// into each other.
func writeField(h hash.Hash, b []byte) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}
