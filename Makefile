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

.PHONY: setup setup-browser build build-gpu gpu-bundle test demo bench clean

# setup installs the apt packages when any is missing (idempotent) and the Go modules.
setup:
	@if ! pkg-config --exists libavformat libavcodec libswscale libavutil 2>/dev/null || ! command -v ffmpeg >/dev/null; then \
		echo "setup: installing $(APT_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
	fi
	@$(GO) mod download

build: setup
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/vidrep ./cmd/vidrep

# build-gpu builds a binary without the decoding package, for GPU machines that lack libav* 5.1.
build-gpu:
	$(GO) build -tags noav -ldflags "$(LDFLAGS)" -o bin/vidrep-noav ./cmd/vidrep

# gpu-bundle fills .gpu/ (git-ignored) with what one device call needs: a
# stripped noav binary, ../shared's XLA environment script and the PyTorch
# anchors. Carry .gpu and run `bench/gpu_all.sh .gpu $OUT` there.
SHARED ?= ../shared
gpu-bundle:
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

test: setup setup-browser
	$(GO) vet ./...
	VIDREP_REQUIRE_SIMD=1 $(GO) test -timeout $(TEST_TIMEOUT) ./...
	# the GPU build (no libav): its opener reads .y4m files and refuses the rest
	$(GO) vet -tags noav ./video ./cmd/vidrep
	$(GO) test -tags noav ./video

demo: build
	./bin/vidrep demo --out $(DEMO_OUT)

bench: build
	./bin/vidrep bench train --arch r3d-small
	./bin/vidrep bench data

clean:
	rm -rf bin $(DEMO_OUT)
