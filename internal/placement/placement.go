package placement

// Candidate is a free server process (ready, connected, healthy, hosting no session) in
// the fleet location a session is for.
type Candidate struct {
	// Compute is the host it runs on, and ComputeActivations how many game sessions are
	// ACTIVATING on that host now.
	Compute            string
	ComputeActivations int32
}

// Choose returns the index of the candidate the session goes to, or -1 when none can
// take it: one whose compute is under maxActivations sessions activating at once (0: no
// limit), chosen uniformly at random among those (intn(n) returns a number in [0, n)).
func Choose(cands []Candidate, maxActivations int32, intn func(n int) int) int {
	chosen, n := -1, 0
	for i, c := range cands {
		if maxActivations > 0 && c.ComputeActivations >= maxActivations {
			continue
		}
		n++
		if intn(n) == 0 { // reservoir sampling: each eligible candidate ends up chosen with 1/n
			chosen = i
		}
	}
	return chosen
}
