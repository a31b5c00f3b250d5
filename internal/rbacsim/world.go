// Package rbacsim simulates the RBAC authorization of the ServiceAccount
// kustomize-controller impersonates for a Flux Kustomization: would the
// apiserver let it apply (and prune) each rendered object, and would it let
// it grant the permissions the object grants? It decides with the same rule
// matching the apiserver uses, offline (internal/rbacworld, shared with the
// admission checker's authorizer).
package rbacsim

import (
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/gitops-lint/gitops-lint/internal/rbacworld"
)

// Request is one API request an identity makes.
type Request = rbacworld.Request

// World is the RBAC state of one environment.
type World = rbacworld.World

// Grant is one binding that gives an identity a role's rules.
type Grant = rbacworld.Grant

// NewWorld returns an empty world.
func NewWorld() *World { return rbacworld.NewWorld() }

// Allows reports whether rules allow the request (rbacworld.Allows).
func Allows(rules []rbacv1.PolicyRule, req Request) bool { return rbacworld.Allows(rules, req) }

// PolicyRules returns the rules the identity holds in namespace ns
// (rbacworld.PolicyRules).
func PolicyRules(grants []Grant, ns string) []rbacv1.PolicyRule {
	return rbacworld.PolicyRules(grants, ns)
}
