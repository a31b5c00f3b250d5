# gitops-lint developer tasks. `make` alone lists them.

GO ?= go
BIN := bin/gitops-lint

.DEFAULT_GOAL := help
.PHONY: help build test lint demo bench bench-go generate check-generate oracle

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build bin/gitops-lint
	$(GO) build -o $(BIN) ./cmd/gitops-lint

test: ## Vet and run every test
	$(GO) vet ./... && $(GO) test ./...

lint: ## Check gofmt and go vet
	@files="$$(gofmt -l .)"; if [ -n "$$files" ]; then echo "gofmt needed:"; echo "$$files"; exit 1; fi
	$(GO) vet ./...

demo: ## Lint the demo fixture repository
	$(GO) run ./cmd/gitops-lint testdata/repos/platform

bench: bench-go ## Run the Go benchmarks, then time gitops-lint against kustomize+kubeconform (scripts/bench.sh)
	scripts/bench.sh

bench-go: ## Run the Go render benchmarks only
	$(GO) test -run '^$$' -bench . -benchtime 5x ./internal/render/

generate: ## Regenerate generated files (go generate; the schema catalog needs the Go module proxy)
	$(GO) generate ./...

check-generate: ## Regenerate, then fail if the committed schema catalog differs
	$(MAKE) generate
	git diff --exit-code -- internal/schema/catalog
	@untracked="$$(git ls-files --others --exclude-standard -- internal/schema/catalog)"; \
	if [ -n "$$untracked" ]; then echo "generated but not committed:"; echo "$$untracked"; exit 1; fi

oracle: ## Replay the fixtures against a real kube-apiserver and compare (docs/oracle.md; cold: builds Kubernetes, ~10 min)
	cd tools/oracle && $(GO) run . -report
