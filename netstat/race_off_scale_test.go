//go:build !race

package netstat

const raceEnabled = false
