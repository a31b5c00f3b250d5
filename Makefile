# gitops-lint developer tasks. `make` alone lists them.

GO ?= go
BIN := bin/gitops-lint

.DEFAULT_GOAL := help
.PHONY: help build test lint demo bench bench-go golden generate check-generate oracle size release-check release-snapshot release-snapshot-host

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# -buildvcs=auto: stamp the commit (`gitops-lint version`) even where GOFLAGS
# turns VCS stamping off.
build: ## Build bin/gitops-lint
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/gitops-lint

test: ## Vet and run every test
	$(GO) vet ./... && $(GO) test ./...

GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT ?= $(shell $(GO) env GOPATH)/bin/golangci-lint

lint: ## gofmt, go vet and golangci-lint (.golangci.yml; installed on first use)
	@files="$$(gofmt -l .)"; if [ -n "$$files" ]; then echo "gofmt needed:"; echo "$$files"; exit 1; fi
	$(GO) vet ./...
	cd tools/oracle && $(GO) vet ./...
	@test -x $(GOLANGCI_LINT) || $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	$(GOLANGCI_LINT) run ./...

demo: ## Lint the demo fixture repository
	$(GO) run ./cmd/gitops-lint testdata/repos/platform

bench: bench-go ## Run the Go benchmarks, then time gitops-lint against kustomize+kubeconform (scripts/bench.sh)
	scripts/bench.sh

bench-go: ## Run the Go render benchmarks only
	$(GO) test -run '^$$' -bench 'Onedr0p' -benchtime 5x ./internal/render/

golden: ## Rewrite every golden file (each package's go test -update), then review the diff
	$(GO) test $$(grep -rl 'flag.Bool("update"' --include=*_test.go . | xargs -n1 dirname | sort -u) -update

generate: ## Regenerate generated files (go generate; the schema catalog and kustomize's reduced OpenAPI need the Go module proxy)
	$(GO) generate ./...

check-generate: ## Regenerate, then fail if the committed schema catalog (or kustomize's reduced OpenAPI) differs
	$(MAKE) generate
	git diff --exit-code -- internal/catalog internal/render/kustomize-openapi.json.gz
	@untracked="$$(git ls-files --others --exclude-standard -- internal/catalog internal/render/kustomize-openapi.json.gz)"; \
	if [ -n "$$untracked" ]; then echo "generated but not committed:"; echo "$$untracked"; exit 1; fi

oracle: ## Replay the fixtures against a real kube-apiserver and compare (docs/oracle.md; cold: builds Kubernetes, ~10 min)
	cd tools/oracle && $(GO) run . -report

size: ## Where the stripped release binary's bytes go: the top 15 modules and the total (scripts/size.sh)
	GO=$(GO) scripts/size.sh 15

GORELEASER_VERSION := v2.15.1
GORELEASER ?= $(shell command -v goreleaser || echo "$$($(GO) env GOPATH)/bin/goreleaser")
# goreleaser builds images only with a docker engine, and SBOMs only with
# syft: a local snapshot skips each when it is absent (--skip=docker,
# --skip=sbom on the command it prints). RELEASE_FLAGS adds more.
RELEASE_SKIP = $(if $(shell docker info >/dev/null 2>&1 && echo y),,--skip=docker) $(if $(shell command -v syft),,--skip=sbom)

release-check: ## Validate .goreleaser.yaml (goreleaser check; installed on first use)
	@test -x "$(GORELEASER)" || GOFLAGS= $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)
	"$(GORELEASER)" check

release-snapshot: ## Build the release archives, checksums.txt (and SBOMs, images) into dist/ without publishing
	@test -x "$(GORELEASER)" || GOFLAGS= $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)
	"$(GORELEASER)" release --snapshot --clean $(RELEASE_SKIP) $(RELEASE_FLAGS)

# goreleaser's --single-target exists for `goreleaser build` only: the host
# snapshot runs `release --snapshot` on a copy of .goreleaser.yaml narrowed
# to this platform, so archives and checksums.txt are exercised too.
release-snapshot-host: ## release-snapshot for this platform only (what CI runs)
	@test -x "$(GORELEASER)" || GOFLAGS= $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)
	@cfg="$$(mktemp)"; trap 'rm -f "$$cfg"' EXIT; \
	os="$$($(GO) env GOOS)"; arch="$$($(GO) env GOARCH)"; \
	sed -e "s/^    goos: \[.*\]$$/    goos: [$$os]/" -e "s/^    goarch: \[.*\]$$/    goarch: [$$arch]/" .goreleaser.yaml >"$$cfg"; \
	grep -q "^    goos: \[$$os\]$$" "$$cfg" && grep -q "^    goarch: \[$$arch\]$$" "$$cfg" || { echo "could not narrow .goreleaser.yaml to $$os/$$arch"; exit 1; }; \
	echo "$(GORELEASER) release --snapshot --clean --config <.goreleaser.yaml for $$os/$$arch> $(RELEASE_SKIP) $(RELEASE_FLAGS)"; \
	"$(GORELEASER)" release --snapshot --clean --config "$$cfg" $(RELEASE_SKIP) $(RELEASE_FLAGS)
