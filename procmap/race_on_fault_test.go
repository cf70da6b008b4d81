//go:build race

package procmap

// raceEnabled: under -race sync.Pool drops items at random, so allocation
// counts that rely on the worker pool are not stable.
const raceEnabled = true
