//go:build !race

package sdkhost

const raceEnabled = false
