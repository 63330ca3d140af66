//go:build race

package printer

// raceEnabled: the race detector slows rendering tenfold.
const raceEnabled = true
