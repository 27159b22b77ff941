package synth

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ffmpegPath finds the ffmpeg binary or says how to get it.
func ffmpegPath() (string, error) {
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		return "", fmt.Errorf("synth: ffmpeg not found on PATH; install it (apt-get install ffmpeg): synth writes videos through the ffmpeg CLI")
	}
	return p, nil
}

// batchSize returns how many clips one ffmpeg process encodes or decodes: a
// new process costs ~0.1 s of CPU, more than encoding a small clip, so clips
// go in batches of up to 16, fewer when they are large.
func batchSize(c Config) int {
	clipBytes := c.Frames * c.Size * c.Size * 3
	return max(1, min(16, (32<<20)/clipBytes))
}

// outputArgs returns the encoder and muxer settings of one output file. The
// settings are fixed and single-threaded, with bit-exact muxing and no
// metadata, so the same frames give the same bytes. The GOP is 8 frames, so
// random access stays cheap.
func outputArgs(c Config, file string) []string {
	args := []string{"-an", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags", "+bitexact", "-threads", "1",
		"-g", "8", "-pix_fmt", "yuv420p"}
	if c.Codec == "mpeg4" {
		args = append(args, "-c:v", "mpeg4", "-vtag", "XVID", "-q:v", "2", "-f", "avi")
	} else {
		args = append(args, "-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-keyint_min", "8",
			"-sc_threshold", "0", "-x264-params", "threads=1:sliced-threads=0", "-f", "mp4")
	}
	return append(args, file)
}

// encodeArgs returns the ffmpeg arguments that read n clips of raw RGB
// frames, one after the other, on stdin and write clip i to files[i]. Each
// output has its own encoder fed by a trim of the input, so a clip's bytes
// do not depend on the other clips of its batch.
func encodeArgs(c Config, files []string) []string {
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "rawvideo", "-pix_fmt", "rgb24", "-s", fmt.Sprintf("%dx%d", c.Size, c.Size),
		"-r", strconv.Itoa(c.FPS), "-i", "pipe:0"}
	var g strings.Builder
	fmt.Fprintf(&g, "[0:v]split=%d", len(files))
	for i := range files {
		fmt.Fprintf(&g, "[s%d]", i)
	}
	for i := range files {
		fmt.Fprintf(&g, ";[s%d]trim=start_frame=%d:end_frame=%d,setpts=PTS-STARTPTS[o%d]", i, i*c.Frames, (i+1)*c.Frames, i)
	}
	args = append(args, "-filter_complex", g.String())
	for i, f := range files {
		args = append(args, "-map", fmt.Sprintf("[o%d]", i))
		args = append(args, outputArgs(c, f)...)
	}
	return args
}

// encode writes clips[i] ([T][H][W][3] bytes) to files[i] with one ffmpeg
// process. It writes temporary files first and renames them, so an
// interrupted run never leaves a truncated video under a final name.
func encode(ctx context.Context, ffmpeg string, c Config, clips [][]uint8, files []string) error {
	tmps := make([]string, len(files))
	readers := make([]io.Reader, len(clips))
	for i, f := range files {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return fmt.Errorf("synth: %w", err)
		}
		tmps[i] = f + ".part"
		readers[i] = bytes.NewReader(clips[i])
	}
	cmd := exec.CommandContext(ctx, ffmpeg, encodeArgs(c, tmps)...)
	cmd.Stdin = io.MultiReader(readers...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		for _, t := range tmps {
			os.Remove(t)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("synth: ffmpeg failed writing %s (and %d more): %v: %s", files[0], len(files)-1, err, strings.TrimSpace(stderr.String()))
	}
	for i, t := range tmps {
		if err := os.Rename(t, files[i]); err != nil {
			return fmt.Errorf("synth: %w", err)
		}
	}
	return nil
}

// decodeFrames decodes every frame of each file to [T][size][size][3] RGB
// bytes with one ffmpeg process, through temporary raw files.
func decodeFrames(ctx context.Context, ffmpeg string, files []string, size int) ([][]uint8, error) {
	dir, err := os.MkdirTemp("", "vidrep-synth-decode-")
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	defer os.RemoveAll(dir)
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1"}
	for _, f := range files {
		args = append(args, "-i", f)
	}
	for i := range files {
		args = append(args, "-map", fmt.Sprintf("%d:v:0", i), "-f", "rawvideo", "-pix_fmt", "rgb24",
			"-s", fmt.Sprintf("%dx%d", size, size), filepath.Join(dir, strconv.Itoa(i)+".rgb"))
	}
	cmd := exec.CommandContext(ctx, ffmpeg, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("synth: ffmpeg could not decode %s (or %d more): %v: %s", files[0], len(files)-1, err, strings.TrimSpace(stderr.String()))
	}
	out := make([][]uint8, len(files))
	n := size * size * 3
	for i, f := range files {
		pix, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(i)+".rgb"))
		if err != nil {
			return nil, fmt.Errorf("synth: decoding %s: %w", f, err)
		}
		if len(pix) == 0 || len(pix)%n != 0 {
			return nil, fmt.Errorf("synth: %s decoded to %d bytes, not whole %dx%d RGB frames", f, len(pix), size, size)
		}
		out[i] = pix
	}
	return out, nil
}
