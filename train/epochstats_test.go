package train

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/vidrep/vidrep/loader"
)

func TestLoaderFractionsUseDeltas(t *testing.T) {
	s := func(busy, wait float64, workers int) loader.Stats {
		return loader.Stats{WorkerBusy: time.Duration(busy * float64(time.Second)),
			ConsumerWait: time.Duration(wait * float64(time.Second)), Workers: workers}
	}
	for _, tc := range []struct {
		name       string
		prev, cur  loader.Stats
		wall       float64 // seconds
		wait, busy float64
	}{
		// Totals since start (13s busy, 5.5s wait) would read 1 and 1; the
		// epoch's own 3s busy and 0.5s wait over 2s with 2 workers do not.
		{"later epoch", s(10, 5, 2), s(13, 5.5, 2), 2, 0.25, 0.75},
		{"first epoch", s(0, 0, 4), s(4, 1, 4), 4, 0.25, 0.25},
		{"idle loader", s(7, 3, 2), s(7, 3, 2), 5, 0, 0},
		{"no wall time", s(0, 0, 2), s(1, 1, 2), 0, 0, 0},
		{"no workers", s(0, 0, 0), s(1, 1, 0), 2, 0.5, 0},
		{"clock skew clamps to 1", s(0, 0, 1), s(3, 3, 1), 2, 1, 1},
		{"counter going back clamps to 0", s(5, 5, 1), s(4, 4, 1), 2, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wait, busy := loaderFractions(tc.prev, tc.cur, time.Duration(tc.wall*float64(time.Second)))
			if wait != tc.wait || busy != tc.busy {
				t.Errorf("wait %v busy %v, want %v and %v", wait, busy, tc.wait, tc.busy)
			}
		})
	}
}

func TestEpochLine(t *testing.T) {
	acc, wait, busy := 0.875, 0.04, 0.63
	full := Record{Epoch: 3, Loss: 0.41234, Accuracy: &acc, ClipsPerS: 5.24, RSSMB: 312.4, PeakRSSMB: 340.2,
		LoaderWait: &wait, LoaderBusy: &busy}
	for _, tc := range []struct {
		rec  Record
		want string
	}{
		{full, "epoch 3/12  loss 0.4123  acc 0.875  5.2 clips/s  rss 312 MiB (peak 340)  loader wait 4%, busy 63%"},
		{Record{Epoch: 1, Loss: 2, ClipsPerS: 1}, "epoch 1/12  loss 2.0000  1.0 clips/s"},
	} {
		if got := epochLine(tc.rec, 12); got != tc.want {
			t.Errorf("epochLine = %q, want %q", got, tc.want)
		}
	}
}

// statsToyData is toyData behind a loader-like counter: each Next sleeps 2ms
// (the step waiting for data) and counts it as wait and as worker time.
type statsToyData struct {
	*toyData
	mu    sync.Mutex
	stats loader.Stats
}

func (d *statsToyData) Stats() loader.Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

func (d *statsToyData) Epoch(epoch, skip int) (Batches, error) {
	b, err := d.toyData.Epoch(epoch, skip)
	return &statsToyBatches{Batches: b, d: d}, err
}

type statsToyBatches struct {
	Batches
	d *statsToyData
}

func (b *statsToyBatches) Next() (*loader.Batch, error) {
	t0 := time.Now()
	time.Sleep(2 * time.Millisecond)
	batch, err := b.Batches.Next()
	b.d.mu.Lock()
	b.d.stats.ConsumerWait += time.Since(t0)
	b.d.stats.WorkerBusy += time.Since(t0)
	b.d.mu.Unlock()
	return batch, err
}

func TestEpochRecordsCarryMemoryAndLoaderStats(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system:", err)
	}
	for _, tc := range []struct {
		name      string
		data      Data
		hasLoader bool
	}{
		{"plain data", newToyData(12, 4, 2), false},
		{"loader stats", &statsToyData{toyData: newToyData(12, 4, 2), stats: loader.Stats{Workers: 1}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sum, err := Run(context.Background(), goBackend(t), model.NewStore(), dir, toyConfig(), toyLoss(false), tc.data, WithQuiet())
			must(t, err)
			recs, err := ReadMetrics(filepath.Join(dir, MetricsFile))
			must(t, err)
			epochs := 0
			for _, r := range recs {
				if r.Kind != "epoch" {
					if r.RSSMB != 0 || r.LoaderWait != nil {
						t.Errorf("step record carries epoch fields: %+v", r)
					}
					continue
				}
				epochs++
				if r.RSSMB <= 0 || r.PeakRSSMB < r.RSSMB || r.PeakRSSMB > sum.PeakRSSMB {
					t.Errorf("epoch %d: rss %.1f MiB, peak %.1f, run peak %.1f: want 0 < rss <= peak <= run peak",
						r.Epoch, r.RSSMB, r.PeakRSSMB, sum.PeakRSSMB)
				}
				if (r.LoaderWait != nil) != tc.hasLoader || (r.LoaderBusy != nil) != tc.hasLoader {
					t.Fatalf("epoch %d: loader fields %v/%v, want present=%v", r.Epoch, r.LoaderWait, r.LoaderBusy, tc.hasLoader)
				}
				if tc.hasLoader {
					for _, f := range []float64{*r.LoaderWait, *r.LoaderBusy} {
						if f <= 0 || f > 1 {
							t.Errorf("epoch %d: loader fraction %v, want in (0,1]", r.Epoch, f)
						}
					}
				}
			}
			if epochs != 3 {
				t.Errorf("%d epoch records, want 3", epochs)
			}
		})
	}
}

func TestEpochLineIsPrinted(t *testing.T) {
	var out strings.Builder
	cfg := toyConfig()
	cfg.Epochs = 2
	_, err := Run(context.Background(), goBackend(t), model.NewStore(), t.TempDir(), cfg, toyLoss(false),
		&statsToyData{toyData: newToyData(8, 4, 2), stats: loader.Stats{Workers: 1}}, WithProgress(&out, false))
	must(t, err)
	for _, want := range []string{"epoch 1/2  loss ", "epoch 2/2  loss ", " MiB (peak ", "loader wait "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("progress output %q lacks %q", out.String(), want)
		}
	}
}
