//go:build !noav

package video

import (
	"maps"
	"slices"
	"sync"

	"github.com/asticode/go-astiav"
)

// This file numbers the frames of counted streams (see avVideo.counted):
// packets without presentation timestamps, as in AVI, where a decoded
// frame's timestamps do not say which frame it is once B-frames reorder the
// stream.

// anchor is a keyframe packet of a counted stream: the timestamp to seek to
// and the tag its decoded frame carries (the packet's byte position, put in
// the packet's pts before decoding; decoders pass pts through their
// reordering unchanged).
type anchor struct {
	ts, tag int64
}

// indexCounted records the keyframes of a counted stream that can become
// seek points: those with a decode timestamp and a byte position. A keyframe
// is placed (given its frame index and made a seek point) only when it is
// decoded while counting, or when an earlier Open of the same file placed
// it; until then reads decode from the file start.
func (v *avVideo) indexCounted(es []indexEntry) {
	v.anchors = map[int]anchor{}
	v.placed = map[int64]int{}
	v.unplaced = map[int64]anchor{}
	for _, e := range es {
		if e.key && e.a.ts != astiav.NoPtsValue && e.a.tag >= 0 {
			v.unplaced[e.a.tag] = e.a
		}
	}
}

// countedIndex numbers the frames of a counted stream: after a seek the
// decoder must first output the keyframe sought to (earlier frames are
// leading frames of an open GOP and are dropped), then frames follow one
// another. A placed keyframe resets the count to its index (so a frame the
// decoder dropped in a corrupt stretch shifts nothing past it); an unplaced
// one met on the way is placed. When the awaited keyframe does not come,
// its seek point is forgotten and the index past the last frame is
// returned, which makes decodeInto retry from an earlier one.
func (v *avVideo) countedIndex(f *astiav.Frame) (int, bool) {
	tag := f.Pts()
	if v.await >= 0 && tag != v.await {
		if v.skipped++; v.skipped > maxLeading {
			return v.loseAnchor(), true
		}
		return 0, false
	}
	v.await = -1
	idx := max(v.next, 0)
	if i, ok := v.placed[tag]; ok {
		idx = i
	} else if a, ok := v.unplaced[tag]; ok && (f.KeyFrame() || f.PictureType() == astiav.PictureTypeI) {
		v.place(idx, a)
	}
	return idx, true
}

// place makes keyframe a, shown as frame idx, a seek point.
func (v *avVideo) place(idx int, a anchor) {
	if _, taken := v.anchors[idx]; taken || idx < 0 || idx >= len(v.pts) {
		return
	}
	delete(v.unplaced, a.tag)
	v.anchors[idx] = a
	v.placed[a.tag] = idx
	k, _ := slices.BinarySearch(v.keys, idx)
	v.keys = slices.Insert(v.keys, k, idx)
}

// loseAnchor forgets the seek point whose keyframe a seek awaited in vain
// and returns an index past the last frame.
func (v *avVideo) loseAnchor() int {
	if idx, ok := v.placed[v.await]; ok {
		delete(v.placed, v.await)
		delete(v.anchors, idx)
		if k, found := slices.BinarySearch(v.keys, idx); found {
			v.keys = slices.Delete(v.keys, k, k+1)
		}
	}
	v.await = -1
	return len(v.pts)
}

// memoFiles bounds how many files seekMemo remembers (a few hundred bytes
// each); the oldest entry is dropped first.
const memoFiles = 4096

// seekMemo remembers the seek points placed in counted streams, per file, so
// that the next Open of the unchanged file (the loader opens a file per
// clip) can seek at once instead of decoding from the start again.
var seekMemo = struct {
	sync.Mutex
	m    map[fileID]memoEntry
	fifo []fileID
}{m: map[fileID]memoEntry{}}

// memoEntry is what seekMemo keeps for one file: the frame count (a check
// that the index is the same) and the placed keyframes by frame index.
type memoEntry struct {
	frames  int
	anchors map[int]anchor
}

// remember stores v's placed keyframes in seekMemo.
func (v *avVideo) remember() {
	if !v.counted || len(v.anchors) == 0 {
		return
	}
	seekMemo.Lock()
	defer seekMemo.Unlock()
	if _, ok := seekMemo.m[v.id]; !ok {
		if len(seekMemo.fifo) >= memoFiles {
			delete(seekMemo.m, seekMemo.fifo[0])
			seekMemo.fifo = seekMemo.fifo[1:]
		}
		seekMemo.fifo = append(seekMemo.fifo, v.id)
	}
	seekMemo.m[v.id] = memoEntry{frames: len(v.pts), anchors: maps.Clone(v.anchors)}
}

// recall places the keyframes an earlier Open of the same file placed, when
// the file has the same frame count and keyframe packets.
func (v *avVideo) recall() {
	seekMemo.Lock()
	e, ok := seekMemo.m[v.id]
	seekMemo.Unlock()
	if !ok || e.frames != len(v.pts) {
		return
	}
	for idx, a := range e.anchors {
		if u, ok := v.unplaced[a.tag]; ok && u == a {
			v.place(idx, a)
		}
	}
}
