package modcheck

import (
	"strings"

	"github.com/slipway-ci/slipway/internal/daggername"
)

// The names a module's Go declarations get in a depender's client bindings
// go through the engine's schema naming and then the Go codegen's; both
// live in internal/daggername.

func lowerCamel(s string) string { return daggername.Field(s) }

func upperCamel(s string) string { return daggername.Type(s) }

func goName(s string) string { return daggername.Go(s) }

// namespacedObject is the schema name of object obj of a module whose own
// name is modName and whose depender calls it depName (dagger core
// namespaceObject): the main object (same name as the module) takes the
// depender's name; an object already prefixed by the module's name at a
// word boundary (SlipwayReport) keeps it, with the depender's name in front;
// any other object gets the depender's name in front (Cell -> SlipwayCell).
func namespacedObject(obj, depName, modName string) string {
	obj = upperCamel(obj)
	if rest, ok := strings.CutPrefix(obj, upperCamel(modName)); ok {
		if rest == "" {
			return upperCamel(depName)
		}
		if 'A' <= rest[0] && rest[0] <= 'Z' {
			return upperCamel(depName + rest)
		}
	}
	return upperCamel(depName + "_" + obj)
}
