module github.com/gitops-lint/gitops-lint/tools/oracle

go 1.26.8

require github.com/gitops-lint/gitops-lint v0.0.0

replace github.com/gitops-lint/gitops-lint => ../..
