// Package layers holds the test of the package graph that
// docs/ARCHITECTURE.md draws: which way the imports go.
package layers
