package placement_test

import (
	"math/rand/v2"
	"testing"

	"github.com/hoist-dev/hoist/internal/placement"
)

// atLimit is the eligibility of processes whose compute has activations[i] sessions
// activating, under a limit of max (0: none).
func atLimit(activations []int32, max int32) func(int) bool {
	return func(i int) bool { return max <= 0 || activations[i] < max }
}

func TestPick(t *testing.T) {
	first := func(n int) int { return 0 } // draws the first process; the scan keeps the last eligible
	cases := []struct {
		name        string
		activations []int32
		max         int32
		want        int
	}{
		{"no process", nil, 0, -1},
		{"one", []int32{0}, 0, 0},
		{"its compute is at the activation limit", []int32{1}, 1, -1},
		{"another compute has room", []int32{2, 1}, 2, 1},
		{"none has room", []int32{2, 3, 2}, 2, -1},
		{"no limit", []int32{50}, 0, 0},
	}
	for _, tc := range cases {
		if got := placement.Pick(len(tc.activations), atLimit(tc.activations, tc.max), first); got != tc.want {
			t.Errorf("%s: picked %d, want %d", tc.name, got, tc.want)
		}
	}
}

// Every eligible process is picked about as often, whether the random draws find it or
// the scan does: sessions spread fairly.
func TestPickIsFair(t *testing.T) {
	cases := map[string][]int32{
		"most eligible (draws)":     {0, 3, 0, 0},
		"few eligible (the scan)":   append(make([]int32, 3), 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3),
		"one eligible at the end":   {3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0},
		"every process is eligible": {0, 0, 0},
	}
	for name, activations := range cases {
		r := rand.New(rand.NewPCG(1, 2))
		counts := map[int]int{}
		const draws = 30000
		eligible := 0
		for _, a := range activations {
			if a < 3 {
				eligible++
			}
		}
		for range draws {
			counts[placement.Pick(len(activations), atLimit(activations, 3), r.IntN)]++
		}
		for i, a := range activations {
			c := counts[i]
			if a >= 3 && c != 0 {
				t.Errorf("%s: process %d, on a compute at its limit, picked %d times", name, i, c)
			}
			if want := draws / eligible; a < 3 && (c < want-want/10 || c > want+want/10) {
				t.Errorf("%s: process %d picked %d times of %d; want about %d", name, i, c, draws, want)
			}
		}
	}
}
