package evaluate

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/engine"
	"github.com/vidrep/vidrep/models"
	"github.com/vidrep/vidrep/train"
)

// TestWeightsMustFitTheBackbone loads backbone files into newNetwork: a
// ViT pretrained through its tokens (as VideoMAE trains it: a token norm and
// no fc_norm) fits the ViT that transfer builds; the same file with one block
// weight gone, or loaded as a ResNet, does not.
func TestWeightsMustFitTheBackbone(t *testing.T) {
	backend, err := engine.New("go")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	spec := ModelSpec{Arch: "vit-micro", Frames: 4, Stride: 1, Size: 16}
	bb, err := spec.Backbone()
	if err != nil {
		t.Fatal(err)
	}
	vit := bb.(*models.ViT)
	pretrained := model.NewStore()
	exec, err := model.NewExec(backend, pretrained, func(scope *model.Scope, x *graph.Node) *graph.Node {
		return vit.Tokens(scope.At(BackboneScope), x, false)
	})
	if err != nil {
		t.Fatal(err)
	}
	clip := tensors.FromFlatDataAndDimensions(make([]float32, 4*16*16*3), 1, 4, 16, 16, 3)
	if _, err := exec.Call(clip); err != nil {
		t.Fatal(err)
	}
	exec.Finalize()
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.safetensors")
	if err := train.SaveStore(pretrained, whole, BackboneScope); err != nil {
		t.Fatal(err)
	}
	var block string
	for v := range pretrained.IterVariables() {
		if strings.Contains(v.Path(), "/blocks/") {
			block = v.Path()
			break
		}
	}
	if err := pretrained.DeleteVariable(block); err != nil {
		t.Fatal(err)
	}
	holed := filepath.Join(dir, "holed.safetensors")
	if err := train.SaveStore(pretrained, holed, BackboneScope); err != nil {
		t.Fatal(err)
	}
	resnet := ModelSpec{Arch: "r3d-small", Widths: []int{8, 8, 8, 8}, Frames: 4, Stride: 1, Size: 16}
	rbb, err := resnet.Backbone()
	if err != nil {
		t.Fatal(err)
	}
	rstore := model.NewStore()
	if err := (&network{backend: backend, store: rstore, spec: resnet, bb: rbb}).ensureBackbone(1); err != nil {
		t.Fatal(err)
	}
	resnetFile := filepath.Join(dir, "resnet.safetensors")
	if err := train.SaveStore(rstore, resnetFile, BackboneScope); err != nil {
		t.Fatal(err)
	}
	narrower := resnet
	narrower.Widths = []int{4, 8, 8, 8}
	rt := Runtime{Engine: backend}
	cases := []struct {
		name string
		spec ModelSpec
		file string
		fits bool
	}{
		{"a token-pretrained ViT as a ViT", spec, whole, true},
		{"a ViT missing a block weight", spec, holed, false},
		{"ViT weights as a ResNet", resnet, whole, false},
		{"ResNet weights as the same ResNet", resnet, resnetFile, true},
		{"ResNet weights as a narrower one", narrower, resnetFile, false},
	}
	for _, c := range cases {
		n, err := newNetwork(c.spec, InitFile, "--init", c.file, rt)
		if n != nil {
			n.close()
		}
		var u *cli.UsageError
		if c.fits && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if !c.fits && (!errors.As(err, &u) || !strings.Contains(err.Error(), "does not fit")) {
			t.Errorf("%s: error %v, want a usage error saying the weights do not fit", c.name, err)
		}
	}
}
