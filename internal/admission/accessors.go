package admission

import (
	celgo "github.com/google/cel-go/cel"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
)

// The expression accessors the CEL compiler takes, one per kind of
// expression of a policy, each with the type the apiserver requires of it.

type validationCond struct {
	v admissionregistrationv1.Validation
}

func (c *validationCond) GetExpression() string      { return c.v.Expression }
func (c *validationCond) ReturnTypes() []*celgo.Type { return []*celgo.Type{celgo.BoolType} }

type messageCond struct{ expr string }

func (c *messageCond) GetExpression() string      { return c.expr }
func (c *messageCond) ReturnTypes() []*celgo.Type { return []*celgo.Type{celgo.StringType} }

type auditCond struct {
	a admissionregistrationv1.AuditAnnotation
}

func (c *auditCond) GetExpression() string { return c.a.ValueExpression }
func (c *auditCond) ReturnTypes() []*celgo.Type {
	return []*celgo.Type{celgo.StringType, celgo.NullType}
}

type variable struct {
	v admissionregistrationv1.Variable
}

func (c *variable) GetExpression() string      { return c.v.Expression }
func (c *variable) ReturnTypes() []*celgo.Type { return []*celgo.Type{celgo.AnyType, celgo.DynType} }
func (c *variable) GetName() string            { return c.v.Name }
