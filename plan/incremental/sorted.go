package incremental

import (
	"slices"
	"strings"
)

// blockSize is the number of slots a block of a slotSet holds before it is
// split in two.
const blockSize = 256

// slotSet is a set of node slots in node-name order: a list of sorted
// blocks of at most blockSize slots. Insert and remove cost O(log n) name
// comparisons and moving at most blockSize slots; taking the first k
// costs O(k). At 100,000 nodes a sorted slice would move up to 400 KB on
// every insert, and a Go map has no order.
//
// A slot's name must not change while the slot is in the set.
type slotSet struct {
	names  *[]slot // the planner's slots, for their names
	blocks [][]int32
	n      int
}

func (s *slotSet) name(i int32) string { return (*s.names)[i].name }

// block returns the index of the block where name belongs: the first
// whose last slot's name is not below name, or the last block.
func (s *slotSet) block(name string) int {
	b, _ := slices.BinarySearchFunc(s.blocks, name, func(blk []int32, name string) int {
		return strings.Compare(s.name(blk[len(blk)-1]), name)
	})
	return min(b, len(s.blocks)-1)
}

// find returns the position of name in block b, and whether it is there.
func (s *slotSet) find(b int, name string) (int, bool) {
	return slices.BinarySearchFunc(s.blocks[b], name, func(x int32, name string) int {
		return strings.Compare(s.name(x), name)
	})
}

// insert adds slot x, which must not be in the set.
func (s *slotSet) insert(x int32) {
	s.n++
	if len(s.blocks) == 0 {
		s.blocks = append(s.blocks, append(make([]int32, 0, blockSize), x))
		return
	}
	name := s.name(x)
	b := s.block(name)
	i, _ := s.find(b, name)
	s.blocks[b] = slices.Insert(s.blocks[b], i, x)
	if blk := s.blocks[b]; len(blk) > blockSize {
		half := len(blk) / 2
		upper := append(make([]int32, 0, blockSize), blk[half:]...)
		s.blocks[b] = blk[:half]
		s.blocks = slices.Insert(s.blocks, b+1, upper)
	}
}

// remove deletes slot x, which must be in the set.
func (s *slotSet) remove(x int32) {
	name := s.name(x)
	b := s.block(name)
	i, ok := s.find(b, name)
	if !ok || s.blocks[b][i] != x {
		panic("incremental: slot not in its set")
	}
	s.n--
	s.blocks[b] = slices.Delete(s.blocks[b], i, i+1)
	if len(s.blocks[b]) == 0 {
		s.blocks = slices.Delete(s.blocks, b, b+1)
	}
}

// first calls f with the first k slots in name order, stopping when f
// returns false.
func (s *slotSet) first(k int, f func(int32) bool) {
	for _, blk := range s.blocks {
		for _, x := range blk {
			if k <= 0 || !f(x) {
				return
			}
			k--
		}
	}
}

// load replaces the set's contents with xs, which it sorts in place by
// name.
func (s *slotSet) load(xs []int32) {
	slices.SortFunc(xs, func(a, b int32) int { return strings.Compare(s.name(a), s.name(b)) })
	s.blocks, s.n = s.blocks[:0], len(xs)
	for len(xs) > 0 {
		k := min(len(xs), blockSize/2)
		s.blocks = append(s.blocks, append(make([]int32, 0, blockSize), xs[:k]...))
		xs = xs[k:]
	}
}
