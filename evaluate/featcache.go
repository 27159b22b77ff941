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
)

// DefaultFeatureCacheBytes is the budget of SharedFeatureCache: the features
// of the demo's test set (600 clips of 64 numbers) take 150 KB, UCF101's
// split-1 test set at 10 clips x 3 crops of R3D-18 about 230 MB, which is
// then extracted again by each probe rather than kept.
const DefaultFeatureCacheBytes = 128 << 20

// FeatureCache keeps the per-view features that a frozen backbone gave for a
// list of videos, so that the linear probes of one experiment that share a
// backbone (one pretraining probed at several label budgets and seeds)
// extract the test set's features once. An entry is keyed by everything the
// features depend on: the backbone's architecture, clip settings and weights
// (every variable, byte for byte), the backend, the decoder, the inference
// batch, the views per video, and each video's path, size and modification
// time. A probe that finds its features still gets the same bytes it would
// have computed. Entries are never evicted; a result that would take the
// cache past its budget is not kept. Safe for concurrent use: a second probe
// asking for features being extracted waits for them.
type FeatureCache struct {
	mu      sync.Mutex
	budget  int64
	used    int64
	entries map[[sha256.Size]byte]*featureEntry
}

// featureEntry is one extraction, finished once done is closed.
type featureEntry struct {
	done chan struct{}
	pv   *perView // nil when the extraction failed or was not kept
}

// NewFeatureCache returns an empty cache that keeps at most budget bytes of
// features (0 keeps nothing).
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

// features returns the backbone's features of every view of samples, from
// the cache when an identical extraction was kept, and whether they came
// from it. The result is shared: callers must not change it.
func (c *FeatureCache) features(key [sha256.Size]byte, extract func() (*perView, error)) (*perView, bool, error) {
	c.mu.Lock()
	e, ok := c.entries[key]
	if !ok {
		e = &featureEntry{done: make(chan struct{})}
		c.entries[key] = e
		c.mu.Unlock()
		return c.fill(key, e, extract)
	}
	c.mu.Unlock()
	<-e.done
	if e.pv != nil {
		return e.pv, true, nil
	}
	// That extraction failed or was too large to keep: extract afresh.
	pv, err := extract()
	return pv, false, err
}

// fill runs extract for the entry this caller created, keeps the result
// within the budget, and wakes the callers waiting on it.
func (c *FeatureCache) fill(key [sha256.Size]byte, e *featureEntry, extract func() (*perView, error)) (*perView, bool, error) {
	defer close(e.done)
	pv, err := extract()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		if size := pv.bytes(); c.used+size <= c.budget {
			c.used += size
			e.pv = pv
			return pv, false, nil
		}
	}
	delete(c.entries, key)
	return pv, false, err
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

// cachedFeatures is runViews' features (head false) through rt's
// FeatureCache. It extracts directly when a video's file cannot be read for
// the key.
func (n *network) cachedFeatures(ctx context.Context, rt Runtime, root string, samples []dataset.Sample, clips, crops int, label string) (*perView, bool, error) {
	extract := func() (*perView, error) { return n.runViews(ctx, rt, root, samples, clips, crops, false, label) }
	key, err := n.featureKey(rt, root, samples, clips, crops)
	if err != nil || rt.Features == nil {
		pv, err := extract()
		return pv, false, err
	}
	return rt.Features.features(key, extract)
}

// featureKey hashes everything the features of runViews depend on.
func (n *network) featureKey(rt Runtime, root string, samples []dataset.Sample, clips, crops int) ([sha256.Size]byte, error) {
	h := sha256.New()
	spec := n.spec
	spec.Classes, spec.Linear, spec.Init = nil, false, "" // the head's and the record's, not the features'
	js, err := json.Marshal(spec)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	writeField(h, js)
	writeField(h, fmt.Appendf(nil, "%s|%T|%d|%d|%d|%s", n.backend.Name(), rt.Opener, rt.Batch, clips, crops, root))
	for _, s := range samples {
		path := loader.SourcePath(root, s.Path)
		st, err := os.Stat(path)
		if err != nil {
			return [sha256.Size]byte{}, err
		}
		writeField(h, fmt.Appendf(nil, "%s|%d|%d", path, st.Size(), st.ModTime().UnixNano()))
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
