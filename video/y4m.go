package video

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// y4mMagic starts every YUV4MPEG2 (.y4m) file: raw, uncompressed frames that
// ffmpeg writes with `-f yuv4mpegpipe` or `-pix_fmt yuv420p out.y4m`.
const y4mMagic = "YUV4MPEG2 "

// maxHeaderLine bounds a stream or frame header line, so that a file that is
// not really Y4M cannot make the reader buffer it whole.
const maxHeaderLine = 4096

// errNotY4M is openY4M's error for a file that does not start like a
// YUV4MPEG2 stream, so that an Opener can try it first and refuse the rest.
var errNotY4M = errors.New("not a YUV4MPEG2 file (it must start with \"YUV4MPEG2 \")")

// y4mFormat is what a stream header says about its frames.
type y4mFormat struct {
	width, height int
	fps           float64
	chromaW       int  // chroma plane width divisor (1 or 2); 0 for monochrome
	chromaH       int  // chroma plane height divisor (1 or 2); 0 for monochrome
	fullRange     bool // Y and chroma use 0-255: XCOLORRANGE=FULL, or monochrome without a range tag
}

// planeSizes returns the bytes of the luma plane and of each chroma plane.
func (f y4mFormat) planeSizes() (luma, chroma int) {
	luma = f.width * f.height
	if f.chromaW == 0 {
		return luma, 0
	}
	return luma, ((f.width + f.chromaW - 1) / f.chromaW) * ((f.height + f.chromaH - 1) / f.chromaH)
}

// y4mVideo reads a .y4m file without libav: its frames are raw YUV planes at
// offsets found once when it is opened.
type y4mVideo struct {
	f      *os.File
	info   Info
	format y4mFormat
	frames []int64 // file offset of each frame's planes
	planes []byte  // one frame's planes, reused
	// tapCache holds the resampling filters of the sizes asked so far.
	tapCache map[tapKey][][]tap
	// rows and outs are resample's buffers, reused from frame to frame: rows
	// holds a plane filtered along x, outs[k] plane k's output (Y, Cb, Cr).
	rows []float32
	outs [3][]float32
}

// openY4M opens a YUV4MPEG2 file: 8-bit 4:2:0, 4:2:2, 4:4:4 or monochrome,
// progressive. Errors name the file; one that is not YUV4MPEG2 at all
// wraps errNotY4M.
func openY4M(path string) (Video, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open video %s: %w", path, err)
	}
	v, err := indexY4M(f, path)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open video %s: %w", path, err)
	}
	return v, nil
}

// indexY4M parses the stream header and finds every complete frame.
func indexY4M(f *os.File, path string) (*y4mVideo, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() == 0 {
		return nil, errors.New("the file is empty (0 bytes)")
	}
	r := bufio.NewReaderSize(f, maxHeaderLine)
	if head, err := r.Peek(len(y4mMagic)); err != nil || string(head) != y4mMagic {
		return nil, errNotY4M
	}
	line, err := readHeaderLine(r)
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("the stream header is longer than %d bytes; re-convert with ffmpeg -i IN -pix_fmt yuv420p OUT.y4m", maxHeaderLine)
	}
	if err != nil {
		return nil, errors.New("the stream header has no end of line (truncated file)")
	}
	format, err := parseY4MHeader(line)
	if err != nil {
		return nil, err
	}
	luma, chroma := format.planeSizes()
	frameBytes := int64(luma + 2*chroma)
	v := &y4mVideo{f: f, format: format}
	offset := int64(len(line) + 1)
	for offset < st.Size() {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			return nil, err
		}
		r.Reset(f)
		fl, err := readHeaderLine(r)
		if errors.Is(err, io.EOF) {
			break // the file ends inside a frame header: truncated, as below
		}
		if err != nil || !strings.HasPrefix(fl, "FRAME") {
			return nil, fmt.Errorf("frame %d: no FRAME header at byte %d (damaged, or not the 8-bit format its header says); re-convert with ffmpeg -i IN -pix_fmt yuv420p OUT.y4m", len(v.frames), offset)
		}
		start := offset + int64(len(fl)+1)
		if start+frameBytes > st.Size() {
			break // a truncated last frame is left out, as a decoder drops it
		}
		v.frames = append(v.frames, start)
		offset = start + frameBytes
	}
	if len(v.frames) == 0 {
		return nil, errors.New("the file holds no complete frame")
	}
	v.planes = make([]byte, frameBytes) // allocated once a frame of that size exists
	v.info = Info{Path: path, Codec: "rawvideo", Width: format.width, Height: format.height, FPS: format.fps,
		Frames: len(v.frames), Duration: float64(len(v.frames)) / format.fps}
	return v, nil
}

// readHeaderLine reads one '\n'-terminated header line without its newline.
func readHeaderLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	return string(line[:len(line)-1]), nil
}

// maxSide bounds each side of a picture, as libav's own image size check
// does, so that the product of the sides cannot overflow.
const maxSide = 1 << 15

// parseY4MHeader reads the stream header's W, H, F, I, C and XCOLORRANGE
// tags. A monochrome stream without a range tag is full range, as libav
// reads it.
func parseY4MHeader(line string) (y4mFormat, error) {
	format := y4mFormat{fps: 25, chromaW: 2, chromaH: 2}
	rangeTag := false
	for _, tag := range strings.Fields(line)[1:] {
		val := tag[1:]
		var err error
		switch tag[0] {
		case 'W':
			format.width, err = strconv.Atoi(val)
		case 'H':
			format.height, err = strconv.Atoi(val)
		case 'F':
			format.fps, err = parseRatio(val)
		case 'I':
			if val != "p" && val != "?" {
				return format, fmt.Errorf("interlaced Y4M (I%s) is not supported; convert with ffmpeg -vf yadif", val)
			}
		case 'C':
			err = format.setColorspace(val)
		case 'X':
			if r, ok := strings.CutPrefix(strings.ToUpper(val), "COLORRANGE="); ok {
				format.fullRange, rangeTag = r == "FULL", true
			}
		}
		if err != nil {
			return format, fmt.Errorf("header tag %q: %w", tag, err)
		}
	}
	if format.width <= 0 || format.height <= 0 || format.width > maxSide || format.height > maxSide ||
		int64(format.width)*int64(format.height) > maxPixels {
		return format, fmt.Errorf("invalid picture size %dx%d (at most %d pixels, %d a side)", format.width, format.height, maxPixels, maxSide)
	}
	if format.chromaW == 0 && !rangeTag {
		format.fullRange = true
	}
	return format, nil
}

// setColorspace maps a C tag to the chroma subsampling of the planes.
func (f *y4mFormat) setColorspace(c string) error {
	switch c {
	case "420", "420jpeg", "420mpeg2", "420paldv":
		f.chromaW, f.chromaH = 2, 2
	case "422":
		f.chromaW, f.chromaH = 2, 1
	case "444":
		f.chromaW, f.chromaH = 1, 1
	case "mono":
		f.chromaW, f.chromaH = 0, 0
	default:
		return fmt.Errorf("colorspace %s is not supported (8-bit 420, 422, 444 or mono); convert with ffmpeg -i IN -pix_fmt yuv420p OUT.y4m", c)
	}
	return nil
}

// parseRatio reads "num:den" as a positive rate; "0:0", the format's
// unknown rate, reads as 25 (as libav reads it).
func parseRatio(s string) (float64, error) {
	if s == "0:0" {
		return 25, nil
	}
	num, den, ok := strings.Cut(s, ":")
	n, err1 := strconv.Atoi(num)
	d, err2 := strconv.Atoi(den)
	if !ok || err1 != nil || err2 != nil || n <= 0 || d <= 0 {
		return 0, errors.New("want a positive ratio such as 25:1")
	}
	return float64(n) / float64(d), nil
}

// Info returns the stream description.
func (v *y4mVideo) Info() Info { return v.info }

// Close closes the file.
func (v *y4mVideo) Close() error {
	if v.f == nil {
		return nil
	}
	err := v.f.Close()
	v.f = nil
	return err
}

// ReadClip reads frames req.Start, req.Start+req.Stride, ... converted to RGB
// (BT.601, limited range unless the header says XCOLORRANGE=FULL) and scaled
// to req.ShortSide. Frames past the end are left out. The pixels follow
// libswscale's, which a libav build gives for the same file: at the stored
// size each chroma sample covers its block of luma pixels; scaled, luma and
// chroma are each interpolated bilinearly at the output pixel's centre.
func (v *y4mVideo) ReadClip(req ClipRequest) (*Clip, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if v.f == nil {
		return nil, fmt.Errorf("read %s: the video is closed", v.info.Path)
	}
	var targets []int
	for i := req.Start; i < len(v.frames) && len(targets) < req.Frames; i += req.Stride {
		targets = append(targets, i)
	}
	w, h := ScaledSize(v.info.Width, v.info.Height, req.ShortSide)
	clip := NewClip(len(targets), h, w)
	for k, i := range targets {
		if _, err := v.f.ReadAt(v.planes, v.frames[i]); err != nil {
			return nil, fmt.Errorf("read %s: frame %d: %w", v.info.Path, i, err)
		}
		v.toRGB(clip.Frame(k), w, h)
	}
	return clip, nil
}

// plane is one image plane of a frame.
type plane struct {
	pix  []byte
	w, h int
}

// tap is one source sample's weight in an output sample.
type tap struct {
	at     int
	weight float64
}

// filterTaps returns, for each of dst output samples along an axis of src
// input samples, the input samples and weights that make it. Like
// libswscale's bilinear filter, a tent centred on the output sample's centre,
// one input sample wide when enlarging and one output sample wide when
// shrinking (so that shrinking averages rather than skips), with edges
// clamped and weights summing to 1. A same-size axis with block is true maps
// output sample i to the input sample whose block holds it (dst/src of them
// share one), which is how libswscale spreads chroma when it does not scale.
func filterTaps(dst, src int, block bool) [][]tap {
	out := make([][]tap, dst)
	if block {
		for i := range out {
			out[i] = []tap{{i * src / dst, 1}}
		}
		return out
	}
	radius := max(1, float64(src)/float64(dst))
	for i := range out {
		c := centre(i, dst, src)
		sum := 0.0
		for s := int(math.Floor(c - radius)); s <= int(math.Ceil(c+radius)); s++ {
			wt := 1 - math.Abs(float64(s)-c)/radius
			if wt <= 0 {
				continue
			}
			at := min(max(s, 0), src-1)
			out[i] = append(out[i], tap{at, wt})
			sum += wt
		}
		for k := range out[i] {
			out[i][k].weight /= sum
		}
	}
	return out
}

// tapKey names one axis's filter: output and input samples, and block.
type tapKey struct {
	dst, src int
	block    bool
}

// taps returns filterTaps for key, computed once per video.
func (v *y4mVideo) taps(dst, src int, block bool) [][]tap {
	key := tapKey{dst, src, block}
	if t, ok := v.tapCache[key]; ok {
		return t
	}
	if v.tapCache == nil {
		v.tapCache = map[tapKey][][]tap{}
	}
	t := filterTaps(dst, src, block)
	v.tapCache[key] = t
	return t
}

// resample returns p resampled to w x h: filterTaps along rows, then along
// columns (the filter is separable), into float32 samples. The result lives in
// v.outs[k] and is overwritten by the next call with the same k.
func (v *y4mVideo) resample(p plane, w, h int, block bool, k int) []float32 {
	xs, ys := v.taps(w, p.w, block), v.taps(h, p.h, block)
	v.rows = sized(v.rows, p.h*w) // each input row filtered to w samples
	rows := v.rows
	for y := range p.h {
		in := p.pix[y*p.w : (y+1)*p.w]
		for x, tx := range xs {
			acc := 0.0
			for _, b := range tx {
				acc += b.weight * float64(in[b.at])
			}
			rows[y*w+x] = float32(acc)
		}
	}
	v.outs[k] = sized(v.outs[k], w*h)
	out := v.outs[k]
	for y, ty := range ys {
		for x := range w {
			acc := 0.0
			for _, a := range ty {
				acc += a.weight * float64(rows[a.at*w+x])
			}
			out[y*w+x] = float32(acc)
		}
	}
	return out
}

// toRGB converts the frame in v.planes to packed RGB at w x h into dst.
// Without scaling, chroma is spread over its blocks; scaled, every plane
// is filtered to the output size on its own, then converted.
func (v *y4mVideo) toRGB(dst []uint8, w, h int) {
	fm := v.format
	luma, chroma := fm.planeSizes()
	// libswscale spreads chroma over its blocks only on its unscaled fast
	// path, which it does not take for 4:2:2 of odd width; there it filters
	// as when scaling. (For 4:2:0 of odd height it filters too, with a
	// vertical chroma position this reader does not copy: block spreading
	// is the nearer, mean |diff| 11 against 18 on a 34x17 test pattern.)
	spread := w == fm.width && h == fm.height && !(fm.chromaW == 2 && fm.chromaH == 1 && fm.width%2 == 1)
	y := v.resample(plane{v.planes[:luma], fm.width, fm.height}, w, h, false, 0)
	var cb, cr []float32
	if chroma > 0 {
		cw, ch := (fm.width+fm.chromaW-1)/fm.chromaW, (fm.height+fm.chromaH-1)/fm.chromaH
		cb = v.resample(plane{v.planes[luma : luma+chroma], cw, ch}, w, h, spread, 1)
		cr = v.resample(plane{v.planes[luma+chroma:], cw, ch}, w, h, spread, 2)
	}
	for i := range w * h {
		u, vv := 128.0, 128.0
		if chroma > 0 {
			u, vv = float64(cb[i]), float64(cr[i])
		}
		dst[3*i], dst[3*i+1], dst[3*i+2] = yuvToRGB(float64(y[i]), u, vv, fm.fullRange)
	}
}

// sized returns buf with length n, reallocated only when its capacity is
// smaller.
func sized(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// centre maps sample i of n samples to the coordinate of its centre among m
// samples covering the same extent.
func centre(i, n, m int) float64 {
	return (float64(i)+0.5)*float64(m)/float64(n) - 0.5
}

// yuvToRGB converts one BT.601 pixel to 8-bit RGB.
func yuvToRGB(y, cb, cr float64, fullRange bool) (uint8, uint8, uint8) {
	scaleY, scaleC := 1.0, 1.0
	if !fullRange {
		y -= 16
		scaleY, scaleC = 255.0/219, 255.0/224
	}
	y *= scaleY
	cb, cr = (cb-128)*scaleC, (cr-128)*scaleC
	r := y + 1.402*cr
	g := y - 0.344136*cb - 0.714136*cr
	b := y + 1.772*cb
	return clampByte(r), clampByte(g), clampByte(b)
}

// clampByte rounds v to the nearest byte value.
func clampByte(v float64) uint8 {
	return uint8(min(max(math.Round(v), 0), 255))
}
