package models

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/safetensors"
)

// Weights interop with torchvision. A backbone variable's path below its
// scope, with "/" read as ".", is its torchvision state-dict key
// (stem/0/weight is stem.0.weight); conv kernels, [kT,kH,kW,Cin,Cout] here,
// are [Cout,Cin,kT,kH,kW] in torch. The classification head's weight and
// bias are torchvision's fc.weight and fc.bias (same layout). Batch norm's
// num_batches_tracked is ignored on import (set to 0) and exported as is.

// Default scopes of ImportTorchvision and ExportTorchvision, the ones
// pretraining and fine-tuning use.
const (
	DefaultBackboneScope = "backbone"
	DefaultHeadScope     = "head"
)

// ImportOptions configure ImportTorchvision.
type ImportOptions struct {
	// BackboneScope and HeadScope are where the backbone and the fc head
	// go in the store ("" means DefaultBackboneScope / DefaultHeadScope).
	BackboneScope, HeadScope string
	// Inflate is how 2D kernels become 3D when a 2D torchvision resnet18 is
	// loaded into i3d_r18 ("" means InflateCentre).
	Inflate Inflation
}

func (o ImportOptions) withDefaults() ImportOptions {
	if o.BackboneScope == "" {
		o.BackboneScope = DefaultBackboneScope
	}
	if o.HeadScope == "" {
		o.HeadScope = DefaultHeadScope
	}
	if o.Inflate == "" {
		o.Inflate = InflateCentre
	}
	return o
}

// Imported describes what ImportTorchvision loaded.
type Imported struct {
	Tensors int    // backbone tensors set from the file
	Classes int    // rows of fc.weight (0: the file has no fc head)
	Source  string // "torchvision" or "inflated resnet18 (<mode>)"
}

// ImportTorchvision builds the backbone arch (with opts) and loads the
// torchvision state dict in the safetensors file into a new store: every
// key and shape must match the model (num_batches_tracked aside), and fc,
// when present, becomes the head. backend is only used to trace the graph
// that creates the variables; nothing runs.
func ImportTorchvision(backend compute.Backend, arch string, opts Options, file string, iopts ImportOptions) (*model.Store, *Imported, error) {
	iopts = iopts.withDefaults()
	bb, err := New(arch, opts)
	if err != nil {
		return nil, nil, err
	}
	store := model.NewStore()
	if err := TraceVariables(backend, store, iopts.BackboneScope, bb); err != nil {
		return nil, nil, err
	}
	f, err := safetensors.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	plan := planImport(store, iopts.BackboneScope, bb, f, iopts.Inflate)
	if err := plan.check(f, arch); err != nil {
		return nil, nil, err
	}
	if err := plan.load(f); err != nil {
		return nil, nil, err
	}
	classes, err := loadHead(store, iopts.HeadScope, bb.FeatureDim(), f)
	if err != nil {
		return nil, nil, err
	}
	return store, &Imported{Tensors: len(plan.items), Classes: classes, Source: plan.source}, nil
}

// TraceVariables creates, without values, every variable bb uses under
// scope in store, by building (not running) its graph once on a
// [1,16,112,112,3] clip.
func TraceVariables(backend compute.Backend, store *model.Store, scope string, bb Backbone) (err error) {
	g := graph.NewGraph(backend, "trace-"+bb.Name())
	defer g.Finalize()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("building %s: %v", bb.Name(), r)
		}
	}()
	model.SetStore(g, store)
	clips := graph.Parameter(g, "clips", shapes.Make(dtypes.Float32, 1, 16, 112, 112, 3))
	bb.Features(store.RootScope().At("%s", scope), clips, false)
	return nil
}

// kernelMap is how a file tensor becomes a model variable.
type kernelMap int

const (
	mapCopy    kernelMap = iota // same layout (batch norm, linear)
	mapConv3D                   // [Cout,Cin,kT,kH,kW] -> [kT,kH,kW,Cin,Cout]
	mapInflate                  // [Cout,Cin,kH,kW] -> [kT,kH,kW,Cin,Cout]
)

// importItem is one model variable and the file tensor it comes from.
type importItem struct {
	v     *model.Variable
	key   string
	shape []int // the shape the file tensor must have
	how   kernelMap
}

// importPlan lists the variables to load and the file keys it accounts for.
type importPlan struct {
	items   []importItem
	skip    map[string]bool // file keys read elsewhere or ignored
	source  string
	inflate Inflation
	zeros   []*model.Variable // num_batches_tracked, set to 0
}

// planImport maps each backbone variable of store to its file key.
func planImport(store *model.Store, scope string, bb Backbone, f *safetensors.File, inflate Inflation) *importPlan {
	p := &importPlan{skip: map[string]bool{"fc.weight": true, "fc.bias": true}, source: "torchvision", inflate: inflate}
	_, fromResNet2D := bb.(*I3DResNet)
	if _, ok := f.Info("conv1.weight"); !ok {
		fromResNet2D = false // i3d_r18's own exported (3D) keys
	}
	if fromResNet2D {
		p.source = fmt.Sprintf("inflated resnet18 (%s)", inflate)
	}
	prefix := "/" + scope + "/"
	for v := range store.IterVariables() {
		rel, ok := strings.CutPrefix(v.Path(), prefix)
		if !ok {
			continue
		}
		if strings.HasSuffix(rel, "/num_batches_tracked") {
			p.zeros = append(p.zeros, v)
			continue
		}
		key := strings.ReplaceAll(rel, "/", ".")
		dims := v.Shape().Dimensions
		item := importItem{v: v, key: key, shape: dims, how: mapCopy}
		if len(dims) == 5 {
			item.how, item.shape = mapConv3D, []int{dims[4], dims[3], dims[0], dims[1], dims[2]}
		}
		if fromResNet2D {
			item.key = resnet2DKey(key)
			if len(dims) == 5 {
				item.how, item.shape = mapInflate, []int{dims[4], dims[3], dims[1], dims[2]}
			}
		}
		p.items = append(p.items, item)
	}
	for _, name := range f.Names() {
		if strings.HasSuffix(name, ".num_batches_tracked") {
			p.skip[name] = true
		}
	}
	sort.Slice(p.items, func(i, j int) bool { return p.items[i].key < p.items[j].key })
	return p
}

// check compares the plan with the file: missing and unexpected keys and
// wrong shapes, all listed in one error.
func (p *importPlan) check(f *safetensors.File, arch string) error {
	want := map[string]bool{}
	var missing, wrong, unexpected []string
	for _, it := range p.items {
		want[it.key] = true
		info, ok := f.Info(it.key)
		switch {
		case !ok:
			missing = append(missing, it.key)
		case !slices.Equal(info.Shape, it.shape):
			wrong = append(wrong, fmt.Sprintf("%s is %v, the model wants %v", it.key, info.Shape, it.shape))
		}
	}
	for _, name := range f.Names() {
		if !want[name] && !p.skip[name] {
			unexpected = append(unexpected, name)
		}
	}
	if len(missing)+len(wrong)+len(unexpected) == 0 {
		return nil
	}
	var parts []string
	for _, l := range []struct {
		what  string
		items []string
	}{{"missing keys", missing}, {"unexpected keys", unexpected}, {"wrong shapes", wrong}} {
		if len(l.items) > 0 {
			parts = append(parts, fmt.Sprintf("%d %s: %s", len(l.items), l.what, abbreviate(l.items, 8)))
		}
	}
	return fmt.Errorf("%s: not a %s state dict (%s); check --arch, or save the state dict of the matching torchvision model",
		f.Path(), arch, strings.Join(parts, "; "))
}

// abbreviate joins the first n items and says how many more there are.
func abbreviate(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

// load reads every planned tensor, converts its layout and sets it.
func (p *importPlan) load(f *safetensors.File) error {
	for _, it := range p.items {
		data, _, err := f.Float32s(it.key)
		if err != nil {
			return err
		}
		dims := it.v.Shape().Dimensions
		switch it.how {
		case mapConv3D:
			data = TorchToConv3D(data, dims)
		case mapInflate:
			data = InflateKernel(data, dims, p.inflate)
		}
		if err := it.v.SetValue(tensors.FromFlatDataAndDimensions(data, dims...)); err != nil {
			return fmt.Errorf("%s: %s: %w", f.Path(), it.key, err)
		}
	}
	for _, v := range p.zeros {
		if err := v.SetValue(tensors.FromShape(v.Shape())); err != nil {
			return err
		}
	}
	return nil
}

// loadHead puts fc.weight [classes, dim] and fc.bias [classes], when the
// file has them, under scope and returns the number of classes.
func loadHead(store *model.Store, scope string, dim int, f *safetensors.File) (int, error) {
	wInfo, hasW := f.Info("fc.weight")
	_, hasB := f.Info("fc.bias")
	if !hasW && !hasB {
		return 0, nil
	}
	if !hasW || !hasB {
		return 0, fmt.Errorf("%s: has only one of fc.weight and fc.bias; export both or neither", f.Path())
	}
	if len(wInfo.Shape) != 2 || wInfo.Shape[1] != dim {
		return 0, fmt.Errorf("%s: fc.weight is %v, the backbone gives %d features; check --arch and --width", f.Path(), wInfo.Shape, dim)
	}
	classes := wInfo.Shape[0]
	if err := f.CheckShape("fc.bias", []int{classes}); err != nil {
		return 0, err
	}
	for _, name := range []string{"weight", "bias"} {
		data, shape, err := f.Float32s("fc." + name)
		if err != nil {
			return 0, err
		}
		if _, err := store.CreateVariable("/"+scope+"/"+name, tensors.FromFlatDataAndDimensions(data, shape...)); err != nil {
			return 0, err
		}
	}
	return classes, nil
}

// TorchToConv3D reorders a torch Conv3d kernel [Cout,Cin,kT,kH,kW] (flat,
// C order) into vidrep's [kT,kH,kW,Cin,Cout]; dims is the vidrep shape.
func TorchToConv3D(src []float32, dims []int) []float32 {
	kt, kh, kw, cin, cout := dims[0], dims[1], dims[2], dims[3], dims[4]
	out := make([]float32, len(src))
	spatial := kt * kh * kw
	for o := 0; o < cout; o++ {
		for i := 0; i < cin; i++ {
			base := (o*cin + i) * spatial
			for s := 0; s < spatial; s++ {
				out[(s*cin+i)*cout+o] = src[base+s]
			}
		}
	}
	return out
}

// Conv3DToTorch is the inverse of TorchToConv3D: dims is the vidrep shape
// [kT,kH,kW,Cin,Cout] of src; the result is [Cout,Cin,kT,kH,kW].
func Conv3DToTorch(src []float32, dims []int) []float32 {
	kt, kh, kw, cin, cout := dims[0], dims[1], dims[2], dims[3], dims[4]
	out := make([]float32, len(src))
	spatial := kt * kh * kw
	for o := 0; o < cout; o++ {
		for i := 0; i < cin; i++ {
			base := (o*cin + i) * spatial
			for s := 0; s < spatial; s++ {
				out[base+s] = src[(s*cin+i)*cout+o]
			}
		}
	}
	return out
}

// ExportTorchvision writes the backbone under backboneScope (and, when
// present, the head under headScope as fc.weight/fc.bias) of store to a
// safetensors file with torchvision's key names and layouts ("" scopes
// mean the defaults). It returns the number of tensors written.
func ExportTorchvision(store *model.Store, backboneScope, headScope, file string) (int, error) {
	if backboneScope == "" {
		backboneScope = DefaultBackboneScope
	}
	if headScope == "" {
		headScope = DefaultHeadScope
	}
	var list []safetensors.Tensor
	for v := range store.IterVariables() {
		key, ok := exportKey(v.Path(), backboneScope, headScope)
		if !ok || !v.HasValue() {
			continue
		}
		t, err := exportTensor(key, v)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", file, err)
		}
		list = append(list, t)
	}
	if len(list) == 0 {
		return 0, fmt.Errorf("%s: the run holds no weights under %q to export", file, backboneScope)
	}
	meta := map[string]string{"format": "pt", "source": "vidrep"}
	return len(list), safetensors.WriteFile(file, meta, list)
}

// exportKey is the torchvision key of a variable path, if it is exported.
func exportKey(path, backboneScope, headScope string) (string, bool) {
	if rel, ok := strings.CutPrefix(path, "/"+backboneScope+"/"); ok {
		return strings.ReplaceAll(rel, "/", "."), true
	}
	if rel, ok := strings.CutPrefix(path, "/"+headScope+"/"); ok && (rel == "weight" || rel == "bias") {
		return "fc." + rel, true
	}
	return "", false
}

// exportTensor converts a variable to a safetensors tensor in torch layout.
func exportTensor(key string, v *model.Variable) (safetensors.Tensor, error) {
	t, err := v.Value()
	if err != nil {
		return safetensors.Tensor{}, err
	}
	dims := t.Shape().Dimensions
	switch t.DType() {
	case dtypes.Float32:
		data := tensors.MustCopyFlatData[float32](t)
		shape := dims
		if len(dims) == 5 {
			data = Conv3DToTorch(data, dims)
			shape = []int{dims[4], dims[3], dims[0], dims[1], dims[2]}
		}
		return safetensors.Tensor{Name: key, DType: safetensors.F32, Shape: shape, Data: safetensors.Float32Bytes(data)}, nil
	case dtypes.Int64:
		return safetensors.FromTensor(key, t)
	}
	return safetensors.Tensor{}, errors.New(key + ": dtype " + t.DType().String() + " cannot be exported; torchvision weights are float32")
}
