package placement

// probes is how many random draws Pick makes before it scans: enough that a pool where
// most processes are eligible almost never needs the scan.
const probes = 8

// Pick returns the index, among n free server processes of the fleet location a session
// is for, of the one the session goes to, or -1 when none can take it: chosen uniformly
// at random among those eligible accepts (eligible(i) reports whether process i's compute
// is under its limit of sessions activating at once). intn(k) returns a number in [0, k).
//
// It draws at random first, which finds an eligible process in O(1) unless most are not
// eligible, then scans all n: rejection sampling, then reservoir sampling, each uniform
// over the eligible processes.
func Pick(n int, eligible func(i int) bool, intn func(k int) int) int {
	if n == 0 {
		return -1
	}
	for range probes {
		if i := intn(n); eligible(i) {
			return i
		}
	}
	chosen, seen := -1, 0
	for i := range n {
		if !eligible(i) {
			continue
		}
		seen++
		if intn(seen) == 0 {
			chosen = i
		}
	}
	return chosen
}
