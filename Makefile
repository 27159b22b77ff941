# vidrep build. Every target that needs the system libraries runs `setup`
# first, so `make test` and `make demo` work alone on a fresh Debian machine.
SHELL := /bin/bash
GO ?= go
export GOEXPERIMENT := simd
export CGO_ENABLED := 1
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
APT_PACKAGES := libavformat-dev libavcodec-dev libswscale-dev libavutil-dev pkg-config ffmpeg
DEMO_OUT ?= demo-out
TEST_TIMEOUT ?= 30m

.PHONY: setup setup-browser engine-patch build build-gpu gpu-bundle test demo bench clean

# The engine patch (_enginepatch/README.md): every target below builds against
# a copy of GoMLX's compute module with vidrep's faster data copies added to
# its Go backend, through a workspace file only this Makefile names. Plain
# `go build` / `go test` use the unpatched module: slower, same numbers.
COMPUTE_MODULE := github.com/gomlx/compute
PATCH_DIR := .build
export GOWORK := $(CURDIR)/$(PATCH_DIR)/go.work

# setup installs the apt packages when any is missing (idempotent) and the Go modules.
setup:
	@if ! pkg-config --exists libavformat libavcodec libswscale libavutil 2>/dev/null || ! command -v ffmpeg >/dev/null; then \
		echo "setup: installing $(APT_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
	fi
	@GOWORK=off $(GO) mod download

# engine-patch rebuilds .build/ from the module cache on every run (3 MB), so
# that it never lags go.mod: the compute module's source, the patch's files
# added to its Go backend's ops package, and go.work using both modules.
engine-patch: setup
	@src=$$(GOWORK=off $(GO) list -m -f '{{.Dir}}' $(COMPUTE_MODULE)) && \
	rm -rf $(PATCH_DIR)/compute && mkdir -p $(PATCH_DIR) && cp -r "$$src" $(PATCH_DIR)/compute && \
	chmod -R u+w $(PATCH_DIR)/compute && cp _enginepatch/*.go $(PATCH_DIR)/compute/internal/gobackend/ops/ && \
	printf 'go %s\n\nuse (\n\t..\n\t./compute\n)\n' "$$(GOWORK=off $(GO) mod edit -json | sed -n 's/^\t"Go": "\(.*\)",$$/\1/p')" >$(GOWORK)

build: engine-patch
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/vidrep ./cmd/vidrep

# build-gpu builds a binary without the decoding package, for GPU machines that lack libav* 5.1.
build-gpu: engine-patch
	$(GO) build -tags noav -ldflags "$(LDFLAGS)" -o bin/vidrep-noav ./cmd/vidrep

# gpu-bundle fills .gpu/ (git-ignored) with what one device call needs: a
# stripped noav binary, ../shared's XLA environment script and the PyTorch
# anchors. Carry .gpu and run `bench/gpu_all.sh .gpu $OUT` there.
SHARED ?= ../shared
gpu-bundle: engine-patch
	mkdir -p .gpu
	$(GO) build -tags noav -ldflags "-s -w $(LDFLAGS)" -o .gpu/vidrep-noav ./cmd/vidrep
	cp $(SHARED)/gpu/xla-cuda-env.sh $(SHARED)/anchors/torch_r3d18.py $(SHARED)/anchors/torch_more.py .gpu/

# setup-browser installs Debian's chromium when it is missing (idempotent): the
# tests open report.html in it headless, and fail under CI without it.
setup-browser:
	@if ! command -v chromium >/dev/null; then \
		echo "setup-browser: installing chromium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

test: engine-patch setup-browser
	$(GO) vet ./...
	VIDREP_REQUIRE_SIMD=1 VIDREP_REQUIRE_PATCH=1 $(GO) test -timeout $(TEST_TIMEOUT) ./...
	# the GPU build (no libav): its opener reads .y4m files and refuses the rest
	$(GO) vet -tags noav ./video ./cmd/vidrep
	$(GO) test -tags noav ./video

demo: build
	./bin/vidrep demo --out $(DEMO_OUT)

bench: build
	./bin/vidrep bench train --arch r3d-small
	./bin/vidrep bench data

clean:
	rm -rf bin $(DEMO_OUT) $(PATCH_DIR)
