//go:build race

package netstat

// raceEnabled: the race detector's shadow memory inflates RSS.
const raceEnabled = true
