//go:build race

package sdkhost

const raceEnabled = true
