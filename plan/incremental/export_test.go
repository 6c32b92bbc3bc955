package incremental

import "fmt"

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

// Verify checks every built index against what its slots compute afresh:
// each slot's contribution, the sums and the sets. It returns the first
// difference.
func Verify(p *Planner) error {
	for key, d := range p.sets {
		if !d.built {
			continue
		}
		var counts [6]int32
		var kinds [kindCount]int
		available := 0
		for i := range p.slots {
			s := int32(i)
			var got contrib
			if i < len(d.contrib) {
				got = d.contrib[s]
			}
			want := d.contribOf(s)
			if got != want {
				return fmt.Errorf("%s: slot %d (%q, node %v): contribution %+v, want %+v", key, s, p.slots[s].name, p.slots[s].node != nil, got, want)
			}
			c := unpack(want.counts)
			for j, v := range []int32{c.Desired, c.Current, c.Misscheduled, c.Ready, c.Updated, c.Available} {
				counts[j] += v
			}
			kinds[want.kind]++
			if want.available {
				available++
			}
			if _, ok := d.managed[s]; ok != want.managed {
				return fmt.Errorf("%s: slot %d: managed %v, want %v", key, s, ok, want.managed)
			}
		}
		c := d.counts
		if got := [6]int32{c.Desired, c.Current, c.Misscheduled, c.Ready, c.Updated, c.Available}; got != counts {
			return fmt.Errorf("%s: counts %v, want %v", key, got, counts)
		}
		for k := range kindCount {
			if k != 0 && kinds[k] != d.kinds[k] {
				return fmt.Errorf("%s: %d nodes of kind %d, want %d", key, d.kinds[k], k, kinds[k])
			}
			if set := d.sets[k]; set != nil && set.n != kinds[k] {
				return fmt.Errorf("%s: set of kind %d holds %d, want %d", key, k, set.n, kinds[k])
			}
		}
		if available != d.available {
			return fmt.Errorf("%s: available %d, want %d", key, d.available, available)
		}
	}
	return nil
}
