//go:build !race

package procmap

const raceEnabled = false
