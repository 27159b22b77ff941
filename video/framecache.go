package video

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// fileID identifies one version of a file: its absolute path, size and
// modification time.
type fileID struct {
	path        string
	size, mtime int64
}

// newFileID returns the identity of the file at path with info st.
func newFileID(path string, st fs.FileInfo) fileID {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return fileID{path: path, size: st.Size(), mtime: st.ModTime().UnixNano()}
}

// DefaultFrameCacheBytes is the budget of SharedFrameCache: enough for the
// synthetic benchmark and its source set (about 75 MB decoded at 32x32) and
// for a few hundred short clips at 112 pixels.
const DefaultFrameCacheBytes = 256 << 20

// FrameCache is an Opener that keeps every video it reads, decoded in full,
// in memory while its byte budget lasts, so that a training run that reads
// the same small videos epoch after epoch decodes each one once. The first
// ReadClip of a video at a given short side decodes all of its frames at
// that size; later reads of the unchanged file (same path, size and
// modification time) copy from memory without opening it. A video that
// would overflow the budget is read through the wrapped Opener as if there
// were no cache; nothing is evicted, so which videos are cached depends only
// on the order they are first read in, and a cached read returns the same
// pixels a direct one does. It is safe for concurrent use.
type FrameCache struct {
	inner  Opener
	budget int64

	mu     sync.Mutex
	used   int64
	videos map[frameKey]*Clip // every frame of a video at one short side
	infos  map[fileID]Info
}

// frameKey names one cached decode: a file version at a short side.
type frameKey struct {
	file      fileID
	shortSide int
}

// NewFrameCache wraps inner with a cache of at most budget bytes of
// decoded frames.
func NewFrameCache(inner Opener, budget int64) *FrameCache {
	return &FrameCache{inner: inner, budget: budget, videos: map[frameKey]*Clip{}, infos: map[fileID]Info{}}
}

// sharedFrameCache is SharedFrameCache's instance.
var sharedFrameCache = sync.OnceValue(func() *FrameCache {
	return NewFrameCache(NewOpener(), DefaultFrameCacheBytes)
})

// SharedFrameCache returns the process's cache over NewOpener(), with
// DefaultFrameCacheBytes: the default Opener of the commands that train and
// evaluate, so that the runs of one experiment share their decoded videos.
func SharedFrameCache() *FrameCache { return sharedFrameCache() }

// DecodesH264 reports whether the wrapped Opener reads H.264.
func (c *FrameCache) DecodesH264() bool { return DecodesH264(c.inner) }

// Used returns the bytes of decoded frames the cache holds.
func (c *FrameCache) Used() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// Open returns the video at path: from memory when a read of this version
// of the file is cached, else opened by the wrapped Opener.
func (c *FrameCache) Open(path string) (Video, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open video %s: %w", path, err)
	}
	id := newFileID(path, st)
	c.mu.Lock()
	info, known := c.infos[id]
	c.mu.Unlock()
	if known {
		return &cachedVideo{cache: c, id: id, info: info, path: path}, nil
	}
	v, err := c.inner.Open(path)
	if err != nil {
		return nil, err
	}
	return &cachedVideo{cache: c, id: id, info: v.Info(), path: path, inner: v}, nil
}

// lookup returns the cached frames of key, if any.
func (c *FrameCache) lookup(key frameKey) *Clip {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.videos[key]
}

// reserve books bytes of the budget for key, or says there is no room (or
// that another reader cached it first).
func (c *FrameCache) reserve(key frameKey, bytes int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, done := c.videos[key]; done || c.used+bytes > c.budget {
		return false
	}
	c.used += bytes
	return true
}

// store records the frames of key, whose bytes were reserved, and the
// video's Info; it hands back the bytes that the decode did not use.
func (c *FrameCache) store(key frameKey, info Info, frames *Clip, reserved int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used -= reserved - int64(len(frames.Pix))
	c.videos[key] = frames
	c.infos[key.file] = info
}

// release returns reserved bytes after a failed decode.
func (c *FrameCache) release(reserved int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used -= reserved
}

// cachedVideo reads from the cache, and through inner (opened on first
// need) what the cache does not hold.
type cachedVideo struct {
	cache *FrameCache
	id    fileID
	info  Info
	path  string
	inner Video // nil until a read misses the cache
}

// Info returns the stream description.
func (v *cachedVideo) Info() Info { return v.info }

// ReadClip copies the requested frames from the cache, decoding the whole
// video into it first when it is not there and fits the budget.
func (v *cachedVideo) ReadClip(req ClipRequest) (*Clip, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	key := frameKey{v.id, req.ShortSide}
	if all := v.cache.lookup(key); all != nil {
		return sliceClip(all, req), nil
	}
	if err := v.openInner(); err != nil {
		return nil, err
	}
	w, h := ScaledSize(v.info.Width, v.info.Height, req.ShortSide)
	bytes := int64(v.info.Frames) * int64(w) * int64(h) * 3
	if v.info.Frames <= 0 || !v.cache.reserve(key, bytes) {
		if all := v.cache.lookup(key); all != nil {
			return sliceClip(all, req), nil
		}
		return v.inner.ReadClip(req)
	}
	all, err := v.inner.ReadClip(ClipRequest{Start: 0, Frames: v.info.Frames, Stride: 1, ShortSide: req.ShortSide})
	if err != nil {
		v.cache.release(bytes)
		return nil, err
	}
	v.cache.store(key, v.inner.Info(), all, bytes)
	return sliceClip(all, req), nil
}

// openInner opens the file with the wrapped Opener if it is not open yet.
func (v *cachedVideo) openInner() error {
	if v.inner != nil {
		return nil
	}
	inner, err := v.cache.inner.Open(v.path)
	if err != nil {
		return err
	}
	v.inner = inner
	return nil
}

// Close closes the wrapped video, if one was opened.
func (v *cachedVideo) Close() error {
	if v.inner == nil {
		return nil
	}
	return v.inner.Close()
}

// sliceClip copies frames req.Start, req.Start+req.Stride, ... of all into a
// new clip, leaving out those past its end as ReadClip does.
func sliceClip(all *Clip, req ClipRequest) *Clip {
	n := 0
	for i := req.Start; i < all.T && n < req.Frames; i += req.Stride {
		n++
	}
	out := NewClip(n, all.H, all.W)
	for k := range n {
		copy(out.Frame(k), all.Frame(req.Start+k*req.Stride))
	}
	return out
}
