package revision

import "github.com/google/go-cmp/cmp/cmpopts"

// cmpEmpty treats nil and empty slices and maps alike.
var cmpEmpty = cmpopts.EquateEmpty()
