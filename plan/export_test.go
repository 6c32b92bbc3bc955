package plan

import "github.com/dsplan/dsplan/rollout"

// Internals for the external tests.
var (
	BurstOrderOfCreate = burstOrder[rollout.CreateReason]
	BurstOrderOfDelete = burstOrder[rollout.DeleteReason]
)
