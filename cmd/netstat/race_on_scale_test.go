//go:build race

package main

// raceEnabled: the race-instrumented test process is large, and a child's
// ru_maxrss counts the address space it was forked from (the hiwater mark
// is carried across exec), so RSS bounds on children loosen under -race.
const raceEnabled = true
