package testenv

import (
	"os"
	"testing"
	"time"
)

func TestCPUTime(t *testing.T) {
	before, err := CPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the kernel has charged this process at least two ticks.
	deadline := time.Now().Add(5 * time.Second)
	var after time.Duration
	for n := 0; after < before+2*time.Second/clockTicks && time.Now().Before(deadline); n++ {
		if n%1_000_000 == 0 {
			if after, err = CPUTime(os.Getpid()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if after < before+2*time.Second/clockTicks {
		t.Errorf("CPU time went from %v to %v after 5 s of spinning", before, after)
	}
	if _, err := CPUTime(1 << 30); err == nil {
		t.Error("CPU time of a pid that does not exist: no error")
	}
}
