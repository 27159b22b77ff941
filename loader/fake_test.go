package loader

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/vidrep/vidrep/video"
)

// fakeFile is an in-memory video: frame f is filled with value (seed*31+f)%256
// (red), f (green) and seed (blue).
type fakeFile struct {
	frames   int   // true decodable frames
	estimate int   // what the probe reports (0: frames)
	openErr  error // Open fails with it
	readErr  error // ReadClip fails with it
	h, w     int
	seed     int
}

// fakeOpener serves fakeFiles by path and counts opens.
type fakeOpener struct {
	files map[string]fakeFile
	opens atomic.Int64
}

func (o *fakeOpener) Open(path string) (video.Video, error) {
	o.opens.Add(1)
	f, ok := o.files[path]
	if !ok {
		return nil, fmt.Errorf("%s: no such file", path)
	}
	if f.openErr != nil {
		return nil, f.openErr
	}
	return &fakeVideo{f: f, path: path}, nil
}

type fakeVideo struct {
	f    fakeFile
	path string
}

func (v *fakeVideo) Info() video.Info {
	n := v.f.estimate
	if n == 0 {
		n = v.f.frames
	}
	return video.Info{Path: v.path, Width: v.f.w, Height: v.f.h, Frames: n}
}

func (v *fakeVideo) ReadClip(req video.ClipRequest) (*video.Clip, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if v.f.readErr != nil {
		return nil, v.f.readErr
	}
	var idx []int
	for i := 0; i < req.Frames; i++ {
		f := req.Start + i*req.Stride
		if f >= v.f.frames {
			break
		}
		idx = append(idx, f)
	}
	c := video.NewClip(len(idx), v.f.h, v.f.w)
	for k, f := range idx {
		fr := c.Frame(k)
		for p := 0; p < len(fr); p += 3 {
			fr[p], fr[p+1], fr[p+2] = uint8((v.f.seed*31+f)%256), uint8(f), uint8(v.f.seed)
		}
	}
	return c, nil
}

func (v *fakeVideo) Close() error { return nil }

var errCorrupt = errors.New("invalid data found when processing input")
