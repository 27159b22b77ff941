//go:build !noav

package video

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"

	"github.com/asticode/go-astiav"
)

func init() {
	// Hostile and slightly broken files make libav log a lot; errors are
	// returned to the caller instead.
	astiav.SetLogLevel(astiav.LogLevelQuiet)
}

// avOpener opens files with go-astiav (libavformat/libavcodec 5.1).
type avOpener struct{}

// NewOpener returns the default Opener, which decodes in-process with
// go-astiav, one single-threaded decoder per Video.
func NewOpener() Opener { return avOpener{} }

// Open opens path, picks its first video stream and indexes its frames: a
// demux-only pass over the packets (no decoding) that gives the exact frame
// count and every frame's timestamp, so that seeking by timestamp is right
// for variable-frame-rate files. The pass reads the whole file, about 1 ms
// of CPU for a prepare cache entry; long original files are best prepared.
// The single-threaded decoder is created by the first ReadClip. Frames of
// files without presentation timestamps (AVI with B-frames) are numbered in
// decoding output order, as the ffmpeg CLI numbers them; such a file's first
// reads decode from its start until its keyframes are found, which later
// Opens of the unchanged file in this process remember.
func (avOpener) Open(path string) (Video, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open video %s: %w", path, err)
	} else if st.Size() == 0 {
		return nil, fmt.Errorf("open video %s: the file is empty (0 bytes)", path)
	}
	v := &avVideo{path: path, next: -1, await: -1, id: newFileID(path, st)}
	if err := v.open(); err != nil {
		v.Close()
		return nil, fmt.Errorf("open video %s: %w", path, err)
	}
	return v, nil
}

// avVideo is one opened file: its demuxer, decoder, scaler and frame index.
type avVideo struct {
	path   string
	info   Info
	fc     *astiav.FormatContext
	opened bool // fc holds an opened input
	stream *astiav.Stream
	sidx   int
	codec  *astiav.Codec
	cc     *astiav.CodecContext
	pkt    *astiav.Packet
	frame  *astiav.Frame                // decoded picture
	mid    *astiav.Frame                // resized planar RGB picture (GBRP)
	rgb    *astiav.Frame                // scaled packed RGB picture
	swsA   *astiav.SoftwareScaleContext // decoded -> GBRP at the target size, or -> RGB24 when no resize
	swsB   *astiav.SoftwareScaleContext // GBRP -> RGB24 (nil when no resize)
	swsKey [5]int                       // srcW, srcH, srcFmt, dstW, dstH of the scalers

	pts  []int64 // presentation timestamps in stream time base; frame i shows at pts[i]
	keys []int   // indices of keyframes usable as seek points, ascending

	// counted is set when packets lack presentation timestamps (AVI: decode
	// timestamps only), so a decoded frame's timestamp does not say which
	// frame it is. Frames are then identified by counting the decoder's
	// output from a keyframe whose index is known, as the ffmpeg CLI numbers
	// them: the file start, or a keyframe seen while counting.
	counted  bool
	id       fileID           // counted: the file, to remember its seek points across Opens
	anchors  map[int]anchor   // counted: the keyframes in keys, by frame index
	placed   map[int64]int    // counted: frame index of the keyframes in keys, by tag
	unplaced map[int64]anchor // counted: keyframes not yet seen decoded, by tag
	await    int64            // counted: tag of the keyframe a seek must output first; -1 when none
	skipped  int              // counted: frames output after a seek before the awaited keyframe

	next    int  // index of the next frame the decoder will output; -1 when unknown
	drained bool // the demuxer is exhausted and the decoder was sent the flush packet
}

// open fills v from its file; on error the caller closes v.
func (v *avVideo) open() error {
	if v.fc = astiav.AllocFormatContext(); v.fc == nil {
		return errors.New("out of memory allocating a format context")
	}
	if err := v.fc.OpenInput(v.path, nil, nil); err != nil {
		return fmt.Errorf("not a readable video container (%v)", err)
	}
	v.opened = true
	if err := v.pickStream(); err != nil {
		return err
	}
	if v.pkt = astiav.AllocPacket(); v.pkt == nil {
		return errors.New("out of memory allocating a packet")
	}
	if err := v.index(); err != nil {
		return err
	}
	if v.frame = astiav.AllocFrame(); v.frame == nil {
		return errors.New("out of memory allocating a frame")
	}
	v.mid, v.rgb = astiav.AllocFrame(), astiav.AllocFrame()
	if v.mid == nil || v.rgb == nil {
		return errors.New("out of memory allocating a frame")
	}
	// The decoder is created by the first seek (every first read seeks: the
	// index pass left the demuxer at the end); a probe-only Open needs none.
	v.info = v.probeInfo()
	return nil
}

// pickStream selects the first video stream with a known codec and size;
// stream info is probed (decoding a few frames) only when the container
// header does not give the size.
func (v *avVideo) pickStream() error {
	if s := v.firstVideo(); s != nil && s.CodecParameters().Width() > 0 {
		return v.useStream(s)
	}
	if err := v.fc.FindStreamInfo(nil); err != nil {
		return fmt.Errorf("cannot read stream info (%v)", err)
	}
	s := v.firstVideo()
	if s == nil {
		return errors.New("no video stream (audio-only or not a video file)")
	}
	return v.useStream(s)
}

// firstVideo returns the first video stream, or nil.
func (v *avVideo) firstVideo() *astiav.Stream {
	for _, s := range v.fc.Streams() {
		if s.CodecParameters().MediaType() == astiav.MediaTypeVideo {
			return s
		}
	}
	return nil
}

// useStream checks that s can be decoded and selects it.
func (v *avVideo) useStream(s *astiav.Stream) error {
	cp := s.CodecParameters()
	w, h := cp.Width(), cp.Height()
	if w <= 0 || h <= 0 || w*h > maxPixels {
		return fmt.Errorf("video stream has an invalid picture size %dx%d", w, h)
	}
	v.codec = astiav.FindDecoder(cp.CodecID())
	if v.codec == nil {
		return fmt.Errorf("no decoder for codec %q in this libav build", cp.CodecID().Name())
	}
	v.stream, v.sidx = s, s.Index()
	return nil
}

// indexEntry is one packet seen by the index pass.
type indexEntry struct {
	ts  int64 // pts, else dts, else the packet's order
	key bool
	a   anchor // seek timestamp (dts) and tag, for counted streams
}

// index reads every packet of the stream (no decoding) and records the
// presentation timestamps and keyframes. When some packet has no pts (AVI),
// the sorted decode timestamps still give one slot per frame, but which
// frame a keyframe shows is only known once it has been decoded in order,
// so the stream is marked counted (see avVideo.counted).
func (v *avVideo) index() error {
	var es []indexEntry
	order := int64(0)
	for v.fc.ReadFrame(v.pkt) == nil {
		if p := v.pkt; v.usable(p) {
			e := indexEntry{ts: p.Pts(), key: p.Flags().Has(astiav.PacketFlagKey), a: anchor{ts: p.Dts(), tag: p.Pos()}}
			if e.ts == astiav.NoPtsValue {
				v.counted = true
				e.ts = p.Dts()
			}
			if e.ts == astiav.NoPtsValue {
				e.ts = order // no timestamps at all: fall back to packet order
			}
			es = append(es, e)
			order++
		}
		v.pkt.Unref()
	}
	if len(es) == 0 {
		return errors.New("the video stream has no frames")
	}
	if v.counted {
		v.indexCounted(es)
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].ts < es[j].ts })
	for i, e := range es {
		if i > 0 && e.ts == es[i-1].ts {
			continue // duplicate timestamp: one presentation slot
		}
		if e.key && !v.counted {
			v.keys = append(v.keys, len(v.pts))
		}
		v.pts = append(v.pts, e.ts)
	}
	if v.counted {
		v.recall()
	}
	return nil
}

// usable says whether packet p holds a frame of the chosen stream (one
// frame slot of the index).
func (v *avVideo) usable(p *astiav.Packet) bool {
	return p.StreamIndex() == v.sidx && !p.Flags().Has(astiav.PacketFlagDiscard) && p.Size() > 0
}

// probeInfo derives Info from the stream and the frame index.
func (v *avVideo) probeInfo() Info {
	cp := v.stream.CodecParameters()
	tb := v.stream.TimeBase().Float64()
	n := len(v.pts)
	span := float64(v.pts[n-1]-v.pts[0]) * tb
	fps := v.stream.AvgFrameRate().Float64()
	if fps <= 0 || fps > 1000 {
		fps = v.stream.RFrameRate().Float64()
	}
	if (fps <= 0 || fps > 1000) && span > 0 {
		fps = float64(n-1) / span
	}
	if fps <= 0 || fps > 1000 {
		fps = 25 // no usable timing at all (a single frame, say)
	}
	dur := span + 1/fps
	if d := float64(v.stream.Duration()) * tb; d > 0 && v.stream.Duration() != astiav.NoPtsValue {
		dur = d
	}
	return Info{Path: v.path, Codec: cp.CodecID().Name(), Width: cp.Width(), Height: cp.Height(),
		FPS: fps, Duration: dur, Frames: n}
}

// newDecoder (re)creates the single-threaded decoder; a fresh decoder after
// a seek drops every reference picture of the old position.
func (v *avVideo) newDecoder() error {
	if v.cc != nil {
		v.cc.Free()
		v.cc = nil
	}
	cc := astiav.AllocCodecContext(v.codec)
	if cc == nil {
		return errors.New("out of memory allocating a decoder")
	}
	v.cc = cc
	if err := v.stream.CodecParameters().ToCodecContext(cc); err != nil {
		return fmt.Errorf("bad codec parameters (%v)", err)
	}
	cc.SetThreadCount(1)
	if err := cc.Open(v.codec, nil); err != nil {
		return fmt.Errorf("cannot open the %s decoder (%v)", v.codec.Name(), err)
	}
	v.drained = false
	return nil
}

// Info returns the probed stream description.
func (v *avVideo) Info() Info { return v.info }

// Close frees every C object of v. It is safe to call more than once.
func (v *avVideo) Close() error {
	v.remember()
	v.freeScalers()
	for _, f := range []**astiav.Frame{&v.frame, &v.mid, &v.rgb} {
		if *f != nil {
			(*f).Free()
			*f = nil
		}
	}
	if v.pkt != nil {
		v.pkt.Free()
		v.pkt = nil
	}
	if v.cc != nil {
		v.cc.Free()
		v.cc = nil
	}
	if v.fc != nil {
		if v.opened {
			v.fc.CloseInput()
		}
		v.fc.Free()
		v.fc = nil
	}
	return nil
}

// keyBefore returns the index of the last keyframe at or before frame i (0
// when none is known).
func (v *avVideo) keyBefore(i int) int {
	k := sort.SearchInts(v.keys, i+1) - 1
	if k < 0 {
		return 0
	}
	return v.keys[k]
}

// frameIndex maps a decoded frame to its index; keep is false for a frame
// to drop (a leading frame output before the keyframe a seek went to).
func (v *avVideo) frameIndex(f *astiav.Frame) (idx int, keep bool) {
	if v.counted {
		return v.countedIndex(f)
	}
	return v.tsIndex(f), true
}

// tsIndex maps a decoded frame to its index through its timestamp; a frame
// without one follows the previous frame.
func (v *avVideo) tsIndex(f *astiav.Frame) int {
	ts := f.Pts()
	if ts == astiav.NoPtsValue {
		ts = f.PktDts()
	}
	if ts == astiav.NoPtsValue {
		return max(v.next, 0)
	}
	i, found := slices.BinarySearch(v.pts, ts)
	if !found {
		i-- // between two indexed timestamps: the earlier one
	}
	return min(max(i, 0), len(v.pts)-1)
}
