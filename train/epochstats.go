package train

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/vidrep/vidrep/internal/memstat"
	"github.com/vidrep/vidrep/internal/progress"
	"github.com/vidrep/vidrep/loader"
)

// LoaderStats is implemented by a Data whose batches come from a
// loader.Loader: the loader has this method, so a *loader.Loader or a struct
// embedding one qualifies. Run then records, per epoch, the share of time
// the training step waited for data and how busy the loader's workers were.
type LoaderStats interface {
	Stats() loader.Stats
}

// epochMeter holds what an epoch record is measured against: the epoch's
// start and the loader's cumulative counters at that moment.
type epochMeter struct {
	start time.Time
	src   LoaderStats // nil when the Data exposes no loader stats
	stats loader.Stats
}

// newEpochMeter starts measuring an epoch of data.
func newEpochMeter(data Data) epochMeter {
	m := epochMeter{start: time.Now()}
	if s, ok := data.(LoaderStats); ok {
		m.src, m.stats = s, s.Stats()
	}
	return m
}

// annotate adds the process memory and this epoch's loader fractions to rec.
func (m epochMeter) annotate(rec *Record) {
	rec.RSSMB, rec.PeakRSSMB = round(memstat.RSSMB(), 1), round(memstat.PeakRSSMB(), 1)
	if m.src == nil {
		return
	}
	wait, busy := loaderFractions(m.stats, m.src.Stats(), time.Since(m.start))
	rec.LoaderWait, rec.LoaderBusy = &wait, &busy
}

// loaderFractions turns two snapshots of a loader's cumulative counters,
// taken wall apart, into that interval's wait fraction (consumer wait over
// wall) and worker utilisation (worker busy time over workers*wall), both
// clamped to [0,1]. The loader's own Wall counter only grows when a pass
// closes, so the caller's wall clock is used instead.
func loaderFractions(prev, cur loader.Stats, wall time.Duration) (wait, busy float64) {
	d := loader.Stats{
		WorkerBusy:   cur.WorkerBusy - prev.WorkerBusy,
		ConsumerWait: cur.ConsumerWait - prev.ConsumerWait,
		Wall:         wall,
		Workers:      cur.Workers,
	}
	return round(clamp01(d.WaitFraction()), 4), round(clamp01(d.WorkerUtilisation()), 4)
}

// epochLine renders an epoch record for the progress output, e.g.
// "epoch 3/12  loss 0.4123  acc 0.875  5.2 clips/s  rss 312 MiB (peak 340)  loader wait 4%, busy 63%".
func epochLine(rec Record, epochs int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "epoch %d/%d  loss %.4f", rec.Epoch, epochs, rec.Loss)
	if rec.Accuracy != nil {
		fmt.Fprintf(&sb, "  acc %.3f", *rec.Accuracy)
	}
	fmt.Fprintf(&sb, "  %.1f clips/s", rec.ClipsPerS)
	if rec.RSSMB > 0 {
		fmt.Fprintf(&sb, "  rss %.0f MiB (peak %.0f)", rec.RSSMB, rec.PeakRSSMB)
	}
	if rec.LoaderWait != nil && rec.LoaderBusy != nil {
		fmt.Fprintf(&sb, "  loader wait %.0f%%, busy %.0f%%", 100**rec.LoaderWait, 100**rec.LoaderBusy)
	}
	return sb.String()
}

// printEpoch writes rec's line above the progress bar (nothing when quiet).
func (r *run) printEpoch(rec Record) {
	if r.bar == nil {
		return
	}
	out, terminal := r.opts.progressOut, r.opts.terminal
	if out == nil {
		out, terminal = io.Writer(os.Stderr), progress.IsTerminal(os.Stderr)
	}
	clear := ""
	if terminal {
		clear = "\r\x1b[K" // replace the bar's line; the bar redraws below
	}
	fmt.Fprintf(out, "%s%s\n", clear, epochLine(rec, (r.total+r.spe-1)/r.spe))
}

func clamp01(x float64) float64 { return math.Min(1, math.Max(0, x)) }

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
