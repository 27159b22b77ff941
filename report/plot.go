package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/brewer"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one line of a LinePlot. Err, when set, holds the half-height of
// an error bar at each point (a standard deviation over seeds, say).
type Series struct {
	Name string
	X, Y []float64
	Err  []float64
}

// LinePlot is a plot of one or more series against a shared X axis.
type LinePlot struct {
	Title, XLabel, YLabel string
	Series                []Series
	// LogX draws X on a log scale; XTicksAtData puts the X ticks at the
	// series' X values (useful for label budgets such as 1, 5, 10, 50).
	LogX, XTicksAtData bool
	// YMin and YMax fix the Y range when YMax > YMin (0..100 for accuracy).
	YMin, YMax float64
	// Width and Height in pixels (defaults 720 x 432).
	Width, Height int
	// Points draws a marker at each point (default: only when a series has at
	// most 50 points).
	Points bool
	// LegendLeft puts the legend in the top-left corner instead of the
	// top-right one (for curves that rise, such as accuracy).
	LegendLeft bool
}

// pixels converts a pixel count to a vg length at the PNG canvas's 96 DPI.
func pixels(n, def int) vg.Length {
	if n <= 0 {
		n = def
	}
	return vg.Length(n) * vg.Inch / 96
}

// seriesXY adapts a Series to gonum's XYer and YErrorer.
type seriesXY struct{ s Series }

// Len, XY and YError give gonum/plot a series' points and error bars.
func (p seriesXY) Len() int                        { return len(p.s.X) }
func (p seriesXY) XY(i int) (float64, float64)     { return p.s.X[i], p.s.Y[i] }
func (p seriesXY) YError(i int) (float64, float64) { return p.s.Err[i], p.s.Err[i] }

// validate checks that the series are drawable.
func (p LinePlot) validate() error {
	if len(p.Series) == 0 {
		return fmt.Errorf("report: plot %q has no series", p.Title)
	}
	for _, s := range p.Series {
		if len(s.X) != len(s.Y) || (s.Err != nil && len(s.Err) != len(s.X)) {
			return fmt.Errorf("report: plot %q series %q has %d x, %d y and %d error values", p.Title, s.Name, len(s.X), len(s.Y), len(s.Err))
		}
		if len(s.X) == 0 {
			return fmt.Errorf("report: plot %q series %q is empty", p.Title, s.Name)
		}
		for i, x := range s.X {
			if p.LogX && x <= 0 {
				return fmt.Errorf("report: plot %q series %q has x=%v on a log axis", p.Title, s.Name, x)
			}
			if math.IsNaN(x) || math.IsNaN(s.Y[i]) {
				return fmt.Errorf("report: plot %q series %q has a NaN point", p.Title, s.Name)
			}
		}
	}
	return nil
}

// PNG draws the plot.
func (p LinePlot) PNG() ([]byte, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	plt := plot.New()
	plt.Title.Text = p.Title
	plt.X.Label.Text = p.XLabel
	plt.Y.Label.Text = p.YLabel
	plt.Legend.Top = true
	plt.Legend.Left = p.LegendLeft
	plt.Add(plotter.NewGrid())
	for i, s := range p.Series {
		if err := addSeries(plt, s, i, p.Points || len(s.X) <= 50); err != nil {
			return nil, err
		}
	}
	if p.LogX {
		plt.X.Scale = plot.LogScale{}
		plt.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if p.XTicksAtData {
		plt.X.Tick.Marker = dataTicks(p.Series)
	}
	if p.YMax > p.YMin {
		plt.Y.Min, plt.Y.Max = p.YMin, p.YMax
	}
	return render(plt, pixels(p.Width, 720), pixels(p.Height, 432))
}

// addSeries draws one series with the i-th colour, dashes and marker.
func addSeries(plt *plot.Plot, s Series, i int, points bool) error {
	xy := seriesXY{s}
	line, err := plotter.NewLine(xy)
	if err != nil {
		return fmt.Errorf("report: series %q: %w", s.Name, err)
	}
	line.Color = plotutil.Color(i)
	line.Width = vg.Points(1.5)
	line.Dashes = plotutil.Dashes(i / 7)
	plt.Add(line)
	entry := []plot.Thumbnailer{line}
	if points {
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return fmt.Errorf("report: series %q: %w", s.Name, err)
		}
		sc.Color = plotutil.Color(i)
		sc.Shape = plotutil.Shape(i)
		plt.Add(sc)
		entry = append(entry, sc)
	}
	if s.Err != nil {
		eb, err := plotter.NewYErrorBars(xy)
		if err != nil {
			return fmt.Errorf("report: series %q: %w", s.Name, err)
		}
		eb.Color = plotutil.Color(i)
		plt.Add(eb)
	}
	if s.Name != "" {
		plt.Legend.Add(s.Name, entry...)
	}
	return nil
}

// dataTicks returns ticks at every distinct X value of the series.
func dataTicks(series []Series) plot.ConstantTicks {
	seen := map[float64]bool{}
	var xs []float64
	for _, s := range series {
		for _, x := range s.X {
			if !seen[x] {
				seen[x] = true
				xs = append(xs, x)
			}
		}
	}
	sort.Float64s(xs)
	ticks := make(plot.ConstantTicks, len(xs))
	for i, x := range xs {
		ticks[i] = plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'g', 4, 64)}
	}
	return ticks
}

// render draws plt on a white w x h PNG canvas.
func render(plt *plot.Plot, w, h vg.Length) ([]byte, error) {
	plt.BackgroundColor = color.White
	wt, err := plt.WriterTo(w, h, "png")
	if err != nil {
		return nil, fmt.Errorf("report: drawing %q: %w", plt.Title.Text, err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("report: encoding %q: %w", plt.Title.Text, err)
	}
	return buf.Bytes(), nil
}

// confusionGrid shows a confusion matrix with row 0 at the top: column c is
// the predicted class, and grid row r holds true class n-1-r. Values are the
// row-normalised rates (recall of each true class).
type confusionGrid struct {
	rate [][]float64
}

// Dims, Z, X, Y, Min and Max give gonum/plot's heat map the confusion rates
// (rows drawn top-down) on a 0-1 colour scale.
func (g confusionGrid) Dims() (int, int)   { return len(g.rate), len(g.rate) }
func (g confusionGrid) Z(c, r int) float64 { return g.rate[len(g.rate)-1-r][c] }
func (g confusionGrid) X(c int) float64    { return float64(c) }
func (g confusionGrid) Y(r int) float64    { return float64(r) }
func (g confusionGrid) Min() float64       { return 0 }
func (g confusionGrid) Max() float64       { return 1 }

// ConfusionPNG draws a confusion matrix (conf[true][predicted] counts) as a
// heatmap coloured by each true class's rate, with true classes top to
// bottom and predicted classes left to right. Cells carry their count when
// there are at most 20 classes; names label the axes (indices when nil).
func ConfusionPNG(conf [][]int, names []string, title string) ([]byte, error) {
	n := len(conf)
	if n == 0 {
		return nil, fmt.Errorf("report: confusion matrix %q is empty", title)
	}
	if names == nil {
		for i := 0; i < n; i++ {
			names = append(names, strconv.Itoa(i))
		}
	}
	if len(names) != n {
		return nil, fmt.Errorf("report: confusion matrix %q has %d classes but %d names", title, n, len(names))
	}
	g := confusionGrid{rate: make([][]float64, n)}
	for i, row := range conf {
		if len(row) != n {
			return nil, fmt.Errorf("report: confusion matrix %q row %d has %d columns, want %d", title, i, len(row), n)
		}
		g.rate[i] = rowRates(row)
	}
	plt := plot.New()
	plt.Title.Text = title
	plt.X.Label.Text = "predicted"
	plt.Y.Label.Text = "true"
	pal, err := brewer.GetPalette(brewer.TypeSequential, "Blues", 9)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	plt.Add(plotter.NewHeatMap(g, pal))
	if n <= 20 {
		lb, err := countLabels(conf, g.rate)
		if err != nil {
			return nil, fmt.Errorf("report: confusion matrix %q: %w", title, err)
		}
		plt.Add(lb)
	}
	plt.X.Tick.Marker = nameTicks(names, false)
	plt.Y.Tick.Marker = nameTicks(names, true)
	if n > 12 {
		plt.X.Tick.Label.Rotation = math.Pi / 2
		plt.X.Tick.Label.XAlign = draw.XRight
		plt.X.Tick.Label.YAlign = draw.YCenter
	}
	side := max(480, min(1600, 160+28*n))
	return render(plt, pixels(side, side), pixels(side, side))
}

// rowRates divides a row of counts by its sum (all zero for an empty row).
func rowRates(row []int) []float64 {
	total := 0
	for _, v := range row {
		total += v
	}
	out := make([]float64, len(row))
	for j, v := range row {
		if total > 0 {
			out[j] = float64(v) / float64(total)
		}
	}
	return out
}

// nameTicks labels positions 0..n-1 (reversed for the Y axis); with many
// classes it labels every k-th one so that the names stay legible.
func nameTicks(names []string, reverse bool) plot.ConstantTicks {
	n := len(names)
	step := max(1, (n+39)/40)
	var ticks plot.ConstantTicks
	for i, name := range names {
		pos := float64(i)
		if reverse {
			pos = float64(n - 1 - i)
		}
		label := ""
		if i%step == 0 {
			label = name
		}
		ticks = append(ticks, plot.Tick{Value: pos, Label: label})
	}
	return ticks
}

// countLabels writes each cell's count at its centre, in white on dark cells.
func countLabels(conf [][]int, rate [][]float64) (*plotter.Labels, error) {
	n := len(conf)
	var xys plotter.XYs
	var labels []string
	for i, row := range conf {
		for j, v := range row {
			xys = append(xys, plotter.XY{X: float64(j), Y: float64(n - 1 - i)})
			labels = append(labels, strconv.Itoa(v))
		}
	}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].XAlign = draw.XCenter
		lb.TextStyle[i].YAlign = draw.YCenter
		if rate[i/n][i%n] > 0.6 {
			lb.TextStyle[i].Color = color.White
		}
	}
	return lb, nil
}
