# vidrep build. Every target that needs the system libraries runs `setup`
# first, so `make test` and `make demo` work alone on a fresh Debian machine.
SHELL := /bin/bash
GO ?= go
export GOEXPERIMENT := simd
export CGO_ENABLED := 1
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
APT_PACKAGES := libavformat-dev libavcodec-dev libavfilter-dev libavdevice-dev libswscale-dev libavutil-dev pkg-config ffmpeg patch
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
	@if ! pkg-config --exists libavformat libavcodec libavfilter libavdevice libswscale libavutil 2>/dev/null || ! command -v ffmpeg >/dev/null || ! command -v patch >/dev/null; then \
		echo "setup: installing $(APT_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
	fi
	@GOWORK=off $(GO) mod download

# engine-patch keeps .build/ in step with go.mod and _enginepatch/: a copy of
# the compute module from the module cache with the patch's files added to
# its Go backend's packages and its .patch files applied, and go.work using
# vidrep and that copy. It refuses a compute version the patch was not
# reviewed for, rebuilds only when the module or the patch changed
# (.build/stamp), and swaps a finished copy in, so that a build running
# beside it never sees half a module.
engine-patch: setup
	@set -euo pipefail; \
	version=$$(GOWORK=off $(GO) list -m -f '{{.Version}}' $(COMPUTE_MODULE)); \
	if [ "$$version" != "$$(cat _enginepatch/COMPUTE_VERSION)" ]; then \
		echo "engine-patch: go.mod names $(COMPUTE_MODULE) $$version, but _enginepatch/ was written for $$(cat _enginepatch/COMPUTE_VERSION); check its files against the new backend, then update _enginepatch/COMPUTE_VERSION" >&2; exit 1; \
	fi; \
	src=$$(GOWORK=off $(GO) list -m -f '{{.Dir}}' $(COMPUTE_MODULE)); \
	stamp="$$src $$(find _enginepatch -type f | LC_ALL=C sort | xargs cat | sha256sum | cut -d' ' -f1)"; \
	if [ -d "$(PATCH_DIR)/compute" ] && [ -f "$(GOWORK)" ] && [ "$$(cat "$(PATCH_DIR)/stamp" 2>/dev/null)" = "$$stamp" ]; then exit 0; fi; \
	mkdir -p "$(PATCH_DIR)"; tmp=$$(mktemp -d "$(PATCH_DIR)/compute.XXXXXX"); \
	cp -r "$$src/." "$$tmp/"; chmod -R u+w "$$tmp"; \
	cp _enginepatch/ops/*.go "$$tmp/internal/gobackend/ops/"; \
	cp _enginepatch/workerspool/*.go "$$tmp/internal/gobackend/workerspool/"; \
	for p in _enginepatch/*.patch; do patch --quiet --forward -p1 -d "$$tmp" <"$$p"; done; \
	if [ -d "$(PATCH_DIR)/compute" ]; then chmod -R u+w "$(PATCH_DIR)/compute"; rm -rf "$(PATCH_DIR)/compute"; fi; \
	mv "$$tmp" "$(PATCH_DIR)/compute"; \
	printf 'go %s\n\nuse (\n\t..\n\t./compute\n)\n' "$$(GOWORK=off $(GO) list -m -f '{{.GoVersion}}')" >"$(GOWORK)"; \
	echo "$$stamp" >"$(PATCH_DIR)/stamp"

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
	# the engine patch's files, inside the backend packages they join
	$(GO) vet $(COMPUTE_MODULE)/internal/gobackend/ops $(COMPUTE_MODULE)/internal/gobackend/fusedops $(COMPUTE_MODULE)/internal/gobackend/workerspool
	$(GO) test $(COMPUTE_MODULE)/internal/gobackend/workerspool
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
	[ ! -d $(PATCH_DIR) ] || chmod -R u+w $(PATCH_DIR)
	rm -rf bin $(DEMO_OUT) $(PATCH_DIR)
