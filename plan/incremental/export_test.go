package incremental

// Break makes p a deliberately wrong variant, for tests that show the
// equivalence tests catch it: "counter" (deleting a pod does not lower
// its node's status counts), "nodeRefresh" (an update of an existing node
// does not refresh decisions), "timeQueue" (pods whose minReadySeconds
// pass are not judged again).
func Break(p *Planner, variant string) {
	p.broken = map[string]breakage{"counter": brokenCounter, "nodeRefresh": brokenNodeRefresh, "timeQueue": brokenTimeQueue}[variant]
	if p.broken == 0 {
		panic("incremental: no broken variant " + variant)
	}
}
