//go:build !noav

package video

import (
	"errors"
	"fmt"

	"github.com/asticode/go-astiav"
)

// maxBadPackets is how many packets in a row the decoder may reject before
// the rest of the file is treated as unreadable.
const maxBadPackets = 64

// maxLeading is how many frames a decoder may output after a seek before the
// keyframe sought to (leading frames of an open GOP) in a counted stream.
const maxLeading = 16

// ReadClip decodes frames req.Start, req.Start+req.Stride, ... scaled to
// req.ShortSide (bilinear with full chroma interpolation: the pixels of the
// ffmpeg CLI with -sws_flags bilinear+full_chroma_int). Frames past the end are left out (a short clip, no error);
// a request starting at or past the last frame returns an empty clip. It
// decodes forward from the current position when no keyframe lies between,
// and seeks by timestamp otherwise.
func (v *avVideo) ReadClip(req ClipRequest) (clip *Clip, err error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if v.fc == nil {
		return nil, fmt.Errorf("read %s: the video is closed", v.path)
	}
	defer func() {
		if r := recover(); r != nil {
			clip, err = nil, fmt.Errorf("read %s: internal decoding error: %v", v.path, r)
		}
	}()
	var targets []int
	for i := req.Start; i < len(v.pts) && len(targets) < req.Frames; i += req.Stride {
		targets = append(targets, i)
	}
	w, h := ScaledSize(v.info.Width, v.info.Height, req.ShortSide)
	clip = NewClip(len(targets), h, w)
	if len(targets) == 0 {
		return clip, nil
	}
	got, err := v.decodeInto(clip, targets)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", v.path, err)
	}
	if got == 0 {
		return nil, fmt.Errorf("read %s: no frame could be decoded from frame %d on (corrupt or truncated file)", v.path, req.Start)
	}
	clip.T = got
	clip.Pix = clip.Pix[:got*h*w*3]
	return clip, nil
}

// decodeInto fills clip's frames with the target frames and returns how many
// it got. When a seek lands after the first target (an inexact container
// index), it seeks further back, up to the start of the file.
func (v *avVideo) decodeInto(clip *Clip, targets []int) (int, error) {
	back, err := v.position(targets[0])
	if err != nil {
		return 0, err
	}
	got, fresh := 0, back >= 0
	for got < len(targets) {
		idx, ok := v.nextFrame()
		if !ok {
			break
		}
		if fresh && idx > targets[0] {
			// The seek landed too late: retry from the keyframe before the one tried.
			if back, err = v.seekFrom(v.keyBefore(back - 1)); err != nil {
				return 0, err
			}
			fresh = back >= 0
			continue
		}
		fresh = false
		if targets[got] > idx {
			continue // before the first wanted frame: decoded, not scaled
		}
		if err := v.scale(clip.W, clip.H); err != nil {
			return 0, err
		}
		first := got
		for got < len(targets) && targets[got] <= idx {
			if got == first {
				if _, err := v.rgb.ImageCopyToBuffer(clip.Frame(got), 1); err != nil {
					return 0, fmt.Errorf("copy frame: %v", err)
				}
			} else { // a target frame was lost in a corrupt stretch: repeat this one
				copy(clip.Frame(got), clip.Frame(first))
			}
			got++
		}
	}
	return got, nil
}

// position makes the decoder's next output frame be at or before target.
// It returns the keyframe index it sought to, or -1 when it decodes forward
// from the current position (no seek needed) or sought to the file start.
func (v *avVideo) position(target int) (int, error) {
	key := v.keyBefore(target)
	if v.next >= 0 && !v.drained && v.next <= target && key <= v.next {
		return -1, nil
	}
	return v.seekFrom(key)
}

// seekFrom seeks to keyframe index key (by its timestamp) and resets the
// decoder. Seeking to index 0 seeks to the file start. It returns key, or -1
// when key is 0 (nothing earlier to retry).
func (v *avVideo) seekFrom(key int) (int, error) {
	key = max(key, 0)
	v.next = -1
	ts := v.pts[key]
	a, isAnchor := v.anchors[key]
	if isAnchor {
		ts = a.ts // a counted stream seeks by decode timestamp
	}
	flags := astiav.NewSeekFlags(astiav.SeekFlagBackward)
	if err := v.fc.SeekFrame(v.sidx, ts, flags); err != nil {
		// Some demuxers cannot seek by timestamp; the byte seek to 0 always works.
		if key != 0 || v.fc.SeekFrame(v.sidx, 0, astiav.NewSeekFlags(astiav.SeekFlagByte, astiav.SeekFlagBackward)) != nil {
			return 0, fmt.Errorf("cannot seek to frame %d (%v)", key, err)
		}
	}
	if err := v.newDecoder(); err != nil {
		return 0, err
	}
	v.await = -1
	if key == 0 {
		v.next = 0
		return -1, nil
	}
	if isAnchor {
		v.next, v.await, v.skipped = key, a.tag, 0
	}
	return key, nil
}

// nextFrame decodes the next frame into v.frame and returns its index;
// ok is false at the end of the stream or when the rest is undecodable.
func (v *avVideo) nextFrame() (idx int, ok bool) {
	bad := 0
	for {
		v.frame.Unref()
		err := v.cc.ReceiveFrame(v.frame)
		if err == nil {
			idx, keep := v.frameIndex(v.frame)
			if !keep {
				continue
			}
			v.next = idx + 1
			return idx, true
		}
		if !errors.Is(err, astiav.ErrEagain) || v.drained {
			v.drained = true
			if v.await >= 0 { // the stream ended before the keyframe sought to
				return v.loseAnchor(), true
			}
			return 0, false
		}
		if v.fc.ReadFrame(v.pkt) != nil {
			// End of file (or an unreadable rest): flush the decoder's delayed frames.
			v.drained = true
			_ = v.cc.SendPacket(nil)
			continue
		}
		if v.pkt.StreamIndex() != v.sidx || v.pkt.Size() == 0 {
			v.pkt.Unref() // an empty packet would put the decoder in draining mode
			continue
		}
		if v.counted {
			v.pkt.SetPts(v.pkt.Pos()) // the tag that identifies keyframes (see anchor)
		}
		err = v.cc.SendPacket(v.pkt)
		v.pkt.Unref()
		if err != nil && !errors.Is(err, astiav.ErrEagain) {
			if bad++; bad > maxBadPackets {
				v.drained = true
				return 0, false
			}
		} else {
			bad = 0
		}
	}
}

// scale converts v.frame to RGB24 at w x h into v.rgb. A resize goes
// through planar RGB: swscale resizes into GBRP and then packs it into RGB24,
// which gives the very pixels of its one-step resize into RGB24 (what the
// ffmpeg CLI does) for a third of the CPU time, as its packed-RGB writer is
// a slow generic one. Without a resize the direct YUV to RGB24 converter is
// used. The scalers are rebuilt when the source or target geometry changes.
func (v *avVideo) scale(w, h int) error {
	src := v.frame
	key := [5]int{src.Width(), src.Height(), int(src.PixelFormat()), w, h}
	if key[0] <= 0 || key[1] <= 0 || key[0]*key[1] > maxPixels || src.PixelFormat() == astiav.PixelFormatNone {
		return fmt.Errorf("decoded frame has an invalid size %dx%d or pixel format", key[0], key[1])
	}
	if v.swsA == nil || key != v.swsKey {
		if err := v.buildScalers(key); err != nil {
			return err
		}
	}
	if v.swsB == nil {
		if err := v.swsA.ScaleFrame(src, v.rgb); err != nil {
			return fmt.Errorf("convert frame to RGB: %v", err)
		}
		return nil
	}
	if err := v.swsA.ScaleFrame(src, v.mid); err != nil {
		return fmt.Errorf("scale frame: %v", err)
	}
	if err := v.swsB.ScaleFrame(v.mid, v.rgb); err != nil {
		return fmt.Errorf("pack frame to RGB: %v", err)
	}
	return nil
}

// buildScalers creates the scaler(s) for key (srcW, srcH, srcFmt, w, h) and
// the frames they write.
func (v *avVideo) buildScalers(key [5]int) error {
	v.freeScalers()
	sw, sh, sf, w, h := key[0], key[1], astiav.PixelFormat(key[2]), key[3], key[4]
	flags := astiav.NewSoftwareScaleContextFlags(astiav.SoftwareScaleContextFlagBilinear)
	first := astiav.PixelFormatRgb24
	if sw != w || sh != h {
		first = astiav.PixelFormatGbrp
	}
	a, err := astiav.CreateSoftwareScaleContext(sw, sh, sf, w, h, first, flags)
	if err != nil {
		return fmt.Errorf("cannot scale %dx%d %s to %dx%d RGB (%v)", sw, sh, sf, w, h, err)
	}
	v.swsA, v.swsKey = a, key
	if first == astiav.PixelFormatGbrp {
		if v.swsB, err = astiav.CreateSoftwareScaleContext(w, h, first, w, h, astiav.PixelFormatRgb24, flags); err != nil {
			v.freeScalers()
			return fmt.Errorf("cannot convert %dx%d planar RGB to RGB24 (%v)", w, h, err)
		}
		if err := allocFrame(v.mid, w, h, first); err != nil {
			v.freeScalers()
			return err
		}
	}
	if err := allocFrame(v.rgb, w, h, astiav.PixelFormatRgb24); err != nil {
		v.freeScalers()
		return err
	}
	return nil
}

// freeScalers releases the scalers (their frames are reused).
func (v *avVideo) freeScalers() {
	for _, s := range []**astiav.SoftwareScaleContext{&v.swsA, &v.swsB} {
		if *s != nil {
			(*s).Free()
			*s = nil
		}
	}
	v.swsKey = [5]int{}
}

// allocFrame gives f a w x h buffer of format pf, keeping one that fits.
func allocFrame(f *astiav.Frame, w, h int, pf astiav.PixelFormat) error {
	if f.Width() == w && f.Height() == h && f.PixelFormat() == pf {
		return nil
	}
	f.Unref()
	f.SetWidth(w)
	f.SetHeight(h)
	f.SetPixelFormat(pf)
	if err := f.AllocBuffer(0); err != nil {
		return fmt.Errorf("allocate a %dx%d %s frame: %v", w, h, pf, err)
	}
	return nil
}
