package cmd

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"k8s.io/klog/v2"
)

// TestClientGoLogFollowsTheRun: client-go's klog lines go to the log of
// the run that set it last, derived loggers (names, values) included, and
// nowhere before any run set one.
func TestClientGoLogFollowsTheRun(t *testing.T) {
	var first, second bytes.Buffer
	logger := klog.Background().WithName("transport").WithValues("server", "https://127.0.0.1:6443")
	logger.Info("before any run")
	clientGoLog.set(slog.NewTextHandler(&first, nil))
	logger.Info("one")
	clientGoLog.set(slog.NewTextHandler(&second, nil))
	logger.Info("two")
	klog.Background().V(0).Info("three")
	if got := first.String(); !strings.Contains(got, "msg=one") || !strings.Contains(got, "server=https://127.0.0.1:6443") || strings.Contains(got, "two") || strings.Contains(got, "before") {
		t.Errorf("the first run's log: %q", got)
	}
	if got := second.String(); !strings.Contains(got, "msg=two") || !strings.Contains(got, "msg=three") || strings.Contains(got, "msg=one") {
		t.Errorf("the second run's log: %q", got)
	}
}
