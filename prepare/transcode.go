package prepare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Each file is re-encoded by the ffmpeg CLI in its own process rather than
// in-process through libav: a hostile file that crashes a decoder, loops
// forever or allocates without bound then takes down only its own child.
// The child runs under an address-space limit (ulimit -v) and a CPU-time
// limit (ulimit -t), and is killed when the per-file deadline passes or the
// parent dies (Pdeathsig), none of which can be imposed on a goroutine.
// Starting a process costs ~50 ms of CPU, small beside a full decode+encode.

// limitScript applies the limits given as $1 (KiB of address space) and $2
// (CPU seconds), then replaces itself with the command that follows.
const limitScript = `ulimit -v "$1" && ulimit -t "$2" || exit 97; shift 2; exec "$@"`

// stderrKeep bounds how much of ffmpeg's error output is kept.
const stderrKeep = 16 << 10

// encoder re-encodes one source into the cache format.
type encoder struct {
	ffmpeg    string
	shortSide int
	gop       int
	timeout   time.Duration
	memBytes  int64
}

// args returns ffmpeg's arguments: first video stream only, short side
// scaled down to e.g. 128 (never up, kept even for yuv420p), every frame
// kept with its own timestamp (variable frame rate survives), H.264 with a
// keyframe at least every gop frames, index at the front of the file.
// -tune fastdecode (no CABAC, no deblocking) at x264's default quality
// (crf 23) decodes 2.5x faster than crf 20 for about the same size: 0.019 s
// against 0.047 s of CPU for 250 frames of 170x128, 168 KB against 216 KB.
func (e encoder) args(src, dst string) []string {
	s := strconv.Itoa(e.shortSide)
	scale := "scale=w='if(lte(iw,ih),trunc(min(" + s + ",iw)/2)*2,-2)':h='if(lte(iw,ih),-2,trunc(min(" + s + ",ih)/2)*2)':flags=bicubic"
	return []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y",
		"-threads", "1", "-i", src,
		"-map", "0:v:0", "-an", "-sn", "-dn", "-map_metadata", "-1",
		"-vf", scale, "-filter_threads", "1", "-fps_mode", "passthrough",
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "fastdecode", "-crf", "23", "-pix_fmt", "yuv420p",
		"-g", strconv.Itoa(e.gop), "-threads", "1",
		"-movflags", "+faststart", "-f", "mp4", dst}
}

// run re-encodes src into dst. It returns ffmpeg's error output of a
// successful run (decode errors it worked past) as a warning, or an error
// whose message is the quarantine reason.
func (e encoder) run(ctx context.Context, src, dst string) (warning string, err error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	cpu := int64(e.timeout/time.Second) + 1
	args := append([]string{"-c", limitScript, "sh", strconv.FormatInt(e.memBytes>>10, 10), strconv.FormatInt(cpu, 10), e.ffmpeg}, e.args(src, dst)...)
	cmd := exec.CommandContext(ctx, "/bin/sh", args...)
	cmd.SysProcAttr = childAttr()
	cmd.WaitDelay = 5 * time.Second
	var stderr tailBuffer
	cmd.Stderr = &stderr
	runErr := cmd.Run()
	msg := strings.TrimSpace(stderr.String())
	if runErr == nil {
		return firstLine(msg), nil
	}
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", fmt.Errorf("timed out after %s while decoding (a very long or hostile file; raise --timeout if it is just long)", e.timeout)
		}
		return "", ctx.Err()
	}
	return "", errors.New(e.reason(runErr, msg))
}

// reason turns a failed ffmpeg run into a one-line quarantine reason.
func (e encoder) reason(runErr error, msg string) string {
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "matches no streams") || strings.Contains(low, "does not contain any stream"):
		return "no video stream (audio-only or not a video file)"
	case strings.Contains(low, "invalid data found"):
		return "not a video file libav can read (invalid data; is it a renamed or damaged file?)"
	case strings.Contains(low, "moov atom not found"):
		return "truncated or unfinished MP4 (moov atom not found)"
	case strings.Contains(low, "cannot allocate memory") || strings.Contains(low, "out of memory"):
		return fmt.Sprintf("exceeded the memory limit of %d MiB while decoding (raise --mem-limit if the file is just large)", e.memBytes>>20)
	case strings.Contains(low, "failed to map segment"):
		return fmt.Sprintf("the memory limit of %d MiB is too low even to start ffmpeg (raise --mem-limit)", e.memBytes>>20)
	}
	var ee *exec.ExitError
	if errors.As(runErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			if ws.Signal() == syscall.SIGXCPU {
				return fmt.Sprintf("used more than %s of CPU time while decoding", e.timeout)
			}
			return fmt.Sprintf("the decoder crashed (%v) on this file; it is probably corrupt", ws.Signal())
		}
		if ee.ExitCode() == 97 {
			return "could not apply the time and memory limits (ulimit failed)"
		}
	}
	if line := lastLine(msg); line != "" {
		return "ffmpeg failed: " + line
	}
	return "ffmpeg failed: " + runErr.Error()
}

// firstLine returns the first line of s, shortened to 200 bytes.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return clip(strings.TrimSpace(s), 200)
}

// lastLine returns the last non-empty line of s, shortened to 200 bytes.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return clip(strings.TrimSpace(lines[len(lines)-1]), 200)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// tailBuffer keeps the first and the last bytes written to it, up to
// stderrKeep each, so a chatty child cannot use unbounded memory.
type tailBuffer struct {
	head, tail bytes.Buffer
}

// Write keeps the first and the last stderrKeep bytes of what it is given.
func (b *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := stderrKeep - b.head.Len(); room > 0 {
		k := min(room, len(p))
		b.head.Write(p[:k])
		p = p[k:]
	}
	b.tail.Write(p)
	if b.tail.Len() > 2*stderrKeep {
		rest := b.tail.Bytes()[b.tail.Len()-stderrKeep:]
		b.tail.Reset()
		b.tail.Write(append([]byte(nil), rest...))
	}
	return n, nil
}

// String returns the kept head and tail.
func (b *tailBuffer) String() string { return b.head.String() + b.tail.String() }
