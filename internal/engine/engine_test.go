package engine

import (
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	cases := []struct{ flag, env, want string }{
		{"", "", "go"},
		{"", "xla:cuda", "xla:cuda"},
		{"go", "xla:cuda", "go"},
		{" xla:cpu ", "", "xla:cpu"},
	}
	for _, c := range cases {
		t.Setenv(EnvVar, c.env)
		if got := Resolve(c.flag); got != c.want {
			t.Errorf("Resolve(%q) with $%s=%q: %q, want %q", c.flag, EnvVar, c.env, got, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, ok := range []string{"go", "go:ops_sequential", "xla", "xla:cuda"} {
		if err := Validate(ok); err != nil {
			t.Errorf("Validate(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"tpu", "xla:", "go:", "cuda"} {
		err := Validate(bad)
		if err == nil || !strings.Contains(err.Error(), "--backend") {
			t.Errorf("Validate(%q) = %v, want an error naming --backend", bad, err)
		}
	}
}

func TestNewGo(t *testing.T) {
	b, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	if !IsGo(b) {
		t.Errorf("IsGo(%s) = false", b.Name())
	}
	if _, err := New("nosuch"); err == nil {
		t.Error("New accepted an unknown backend")
	}
}
