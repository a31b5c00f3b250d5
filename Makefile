# gitops-lint developer tasks. `make` alone lists them.

GO ?= go
BIN := bin/gitops-lint

.DEFAULT_GOAL := help
.PHONY: help build test lint demo bench bench-go golden generate check-generate oracle

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build bin/gitops-lint
	$(GO) build -o $(BIN) ./cmd/gitops-lint

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
	$(GO) test -run '^$$' -bench . -benchtime 5x ./internal/render/

golden: ## Rewrite every golden file (each package's go test -update), then review the diff
	$(GO) test $$(grep -rl 'flag.Bool("update"' --include=*_test.go . | xargs -n1 dirname | sort -u) -update

generate: ## Regenerate generated files (go generate; the schema catalog needs the Go module proxy)
	$(GO) generate ./...

check-generate: ## Regenerate, then fail if the committed schema catalog differs
	$(MAKE) generate
	git diff --exit-code -- internal/catalog
	@untracked="$$(git ls-files --others --exclude-standard -- internal/catalog)"; \
	if [ -n "$$untracked" ]; then echo "generated but not committed:"; echo "$$untracked"; exit 1; fi

oracle: ## Replay the fixtures against a real kube-apiserver and compare (docs/oracle.md; cold: builds Kubernetes, ~10 min)
	cd tools/oracle && $(GO) run . -report
