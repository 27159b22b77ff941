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

// ReadClip decodes frames req.Start, req.Start+req.Stride, ... scaled to
// req.ShortSide. Frames past the end are left out (a short clip, no error);
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
	flags := astiav.NewSeekFlags(astiav.SeekFlagBackward)
	if err := v.fc.SeekFrame(v.sidx, v.pts[key], flags); err != nil {
		// Some demuxers cannot seek by timestamp; the byte seek to 0 always works.
		if key != 0 || v.fc.SeekFrame(v.sidx, 0, astiav.NewSeekFlags(astiav.SeekFlagByte, astiav.SeekFlagBackward)) != nil {
			return 0, fmt.Errorf("cannot seek to frame %d (%v)", key, err)
		}
	}
	if err := v.newDecoder(); err != nil {
		return 0, err
	}
	v.next = -1
	if key == 0 {
		v.next = 0
		return -1, nil
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
			idx = v.frameIndex(v.frame)
			v.next = idx + 1
			return idx, true
		}
		if !errors.Is(err, astiav.ErrEagain) || v.drained {
			v.drained = true
			return 0, false
		}
		if v.fc.ReadFrame(v.pkt) != nil {
			// End of file (or an unreadable rest): flush the decoder's delayed frames.
			v.drained = true
			_ = v.cc.SendPacket(nil)
			continue
		}
		if v.pkt.StreamIndex() != v.sidx {
			v.pkt.Unref()
			continue
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

// scale converts v.frame to RGB24 at w x h into v.rgb, (re)creating the
// scaler when the source or target geometry changes.
func (v *avVideo) scale(w, h int) error {
	src := v.frame
	key := [5]int{src.Width(), src.Height(), int(src.PixelFormat()), w, h}
	if key[0] <= 0 || key[1] <= 0 || key[0]*key[1] > maxPixels || src.PixelFormat() == astiav.PixelFormatNone {
		return fmt.Errorf("decoded frame has an invalid size %dx%d or pixel format", key[0], key[1])
	}
	if v.sws == nil || key != v.swsKey {
		if v.sws != nil {
			v.sws.Free()
			v.sws = nil
		}
		sws, err := astiav.CreateSoftwareScaleContext(key[0], key[1], src.PixelFormat(), w, h,
			astiav.PixelFormatRgb24, astiav.NewSoftwareScaleContextFlags(astiav.SoftwareScaleContextFlagBilinear))
		if err != nil {
			return fmt.Errorf("cannot scale %dx%d %s to %dx%d RGB (%v)", key[0], key[1], src.PixelFormat(), w, h, err)
		}
		v.sws, v.swsKey = sws, key
		if err := v.allocRGB(w, h); err != nil {
			return err
		}
	}
	if err := v.sws.ScaleFrame(src, v.rgb); err != nil {
		return fmt.Errorf("scale frame: %v", err)
	}
	return nil
}

// allocRGB gives v.rgb a w x h RGB24 buffer.
func (v *avVideo) allocRGB(w, h int) error {
	if v.rgb.Width() == w && v.rgb.Height() == h && v.rgb.PixelFormat() == astiav.PixelFormatRgb24 {
		return nil
	}
	v.rgb.Unref()
	v.rgb.SetWidth(w)
	v.rgb.SetHeight(h)
	v.rgb.SetPixelFormat(astiav.PixelFormatRgb24)
	if err := v.rgb.AllocBuffer(0); err != nil {
		return fmt.Errorf("allocate a %dx%d RGB frame: %v", w, h, err)
	}
	return nil
}
