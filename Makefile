# Release builds for the host's own laptop and for servers: plain go build
# with GOOS/GOARCH, static binaries, into dist/.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
PLATFORMS = linux/amd64 linux/arm64 windows/amd64 darwin/arm64

.PHONY: release test run bench clean
release:
	@mkdir -p dist
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "building dist/leitai-$$os-$$arch$$ext"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags "-s -w" \
			-o dist/leitai-$$os-$$arch$$ext ./cmd/leitai || exit 1; \
	done

test:
	go test -race -count=1 -timeout 15m ./...

run:
	go run ./cmd/leitai --event examples/gongshu-2020.yaml

# The load scenarios of docs/performance.md (QUICK=1 for a short run).
bench:
	bench/run.sh

clean:
	rm -rf dist
