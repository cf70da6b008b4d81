//go:build race

// Package race says whether the race detector is on, as the standard
// library's internal/race does: tests relax memory and allocation bounds
// that its shadow memory and sync.Pool's random drops break.
package race

// Enabled reports whether the build has -race.
const Enabled = true
