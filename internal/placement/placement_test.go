package placement_test

import (
	"math/rand/v2"
	"testing"

	"github.com/hoist-dev/hoist/internal/placement"
)

func TestChoose(t *testing.T) {
	last := func(n int) int { return 0 } // keeps replacing: the last eligible candidate wins
	cases := []struct {
		name  string
		cands []placement.Candidate
		max   int32
		want  int
	}{
		{"no candidate", nil, 0, -1},
		{"one", []placement.Candidate{{Compute: "c1"}}, 0, 0},
		{"its compute is at the activation limit", []placement.Candidate{{Compute: "c1", ComputeActivations: 1}}, 1, -1},
		{"another compute has room", []placement.Candidate{{Compute: "c1", ComputeActivations: 2}, {Compute: "c2", ComputeActivations: 1}}, 2, 1},
		{"no limit", []placement.Candidate{{Compute: "c1", ComputeActivations: 50}}, 0, 0},
	}
	for _, tc := range cases {
		if got := placement.Choose(tc.cands, tc.max, last); got != tc.want {
			t.Errorf("%s: chose %d, want %d", tc.name, got, tc.want)
		}
	}
}

// Every eligible candidate is chosen about as often: sessions spread fairly.
func TestChooseIsFair(t *testing.T) {
	cands := []placement.Candidate{{Compute: "c1"}, {Compute: "c2", ComputeActivations: 3}, {Compute: "c3"}, {Compute: "c4"}}
	r := rand.New(rand.NewPCG(1, 2))
	counts := map[int]int{}
	const draws = 30000
	for range draws {
		counts[placement.Choose(cands, 3, r.IntN)]++
	}
	for _, i := range []int{0, 2, 3} {
		if c := counts[i]; c < draws/3-draws/30 || c > draws/3+draws/30 {
			t.Errorf("candidate %d chosen %d times of %d; want about a third", i, c, draws)
		}
	}
	if counts[1] != 0 {
		t.Errorf("the candidate on a compute at its limit was chosen %d times", counts[1])
	}
}
