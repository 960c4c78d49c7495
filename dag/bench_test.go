package dag

import (
	"context"
	"testing"
)

// BenchmarkRun10k schedules a random 10,000-node DAG whose nodes do nothing:
// the scheduler's own overhead, goroutines included.
func BenchmarkRun10k(b *testing.B) {
	g := randomDAG(10_000, 4, 1)
	noop := func(context.Context, string) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(context.Background(), g, noop, Options[string]{Concurrency: 64}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSimulate10k replays the same DAG on the virtual clock.
func BenchmarkSimulate10k(b *testing.B) {
	g := randomDAG(10_000, 4, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Simulate(g, costOf(g), Options[string]{Concurrency: 64}); err != nil {
			b.Fatal(err)
		}
	}
}
