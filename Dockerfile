# syntax=docker/dockerfile:1
#
# The gitops-lint image: the static gitops-lint binary on Alpine with git
# (the promotion checks, `diff` and --changed-since read the repository's
# history with git). docs/ci.md explains the choice of base and how to use
# the image in GitLab CI, Jenkins and Tekton.
#
# Two ways to fill it, chosen with the BINARY build argument:
#   docker build -t gitops-lint .          builds the binary from this checkout
#                                          (stage "source", the default)
#   goreleaser (.goreleaser.yaml)          passes BINARY=prebuilt and copies the
#                                          release binary it built and checksummed
#                                          for the image's platform
# BuildKit builds only the stages the final image needs, so a release image
# never compiles anything.
ARG BINARY=source

# ---- the binary, built from this checkout -------------------------------
FROM --platform=$BUILDPLATFORM golang:1.26.8-alpine AS source
ARG TARGETOS TARGETARCH VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/root/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false -tags kustomize_disable_go_plugin_support \
      -ldflags "-s -w -X github.com/gitops-lint/gitops-lint/internal/cli.version=${VERSION}" \
      -o /out/gitops-lint ./cmd/gitops-lint

# ---- the binary goreleaser built (its context has <os>/<arch>/gitops-lint) --
FROM scratch AS prebuilt
ARG TARGETPLATFORM
COPY ${TARGETPLATFORM}/gitops-lint /out/gitops-lint

FROM ${BINARY} AS binary

# ---- the image -----------------------------------------------------------
FROM alpine:3.22
# git: promotion checks, diff, --changed-since. CI systems mount the
# workspace owned by another user than the image's; without safe.directory
# git refuses to read it ("dubious ownership") and those checks would fail.
RUN apk add --no-cache git \
 && git config --system --add safe.directory '*' \
 && adduser -D -H -u 65532 -s /sbin/nologin gitops-lint
COPY --from=binary /out/gitops-lint /usr/local/bin/gitops-lint
USER 65532:65532
WORKDIR /repo
ENTRYPOINT ["/usr/local/bin/gitops-lint"]
CMD ["."]
