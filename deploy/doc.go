// Package deploy runs a deployment: the units of a component graph through
// the dag scheduler with a components.Deployer, telling an Observer what
// happens to each unit as it happens (started, heartbeats with what it waits
// on, succeeded, unchanged, failed, skipped), and returns a Report of the run
// (per-unit start, wait and duration, the chain that set its end) that
// renders as Markdown and as an SVG Gantt chart. Measured durations are kept
// in the cluster (Durations) so that the next run ranks units and estimates
// its end from them.
//
// The package renders nothing itself on a terminal: see package view for
// the progress views of the command line.
package deploy
