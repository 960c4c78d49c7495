package kubephase

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// errorRecorder is a testing.TB that records the errors a check reports
// instead of failing the test that runs the check.
type errorRecorder struct {
	testing.TB
	errs []string
}

func (r *errorRecorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *errorRecorder) Helper() {}

// TestCheckNothingInDefaultCanFail: the check fails on an object a release
// left in default, and on a List that fails; it passes on a clean default.
func TestCheckNothingInDefaultCanFail(t *testing.T) {
	left := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1.x.v1", Namespace: "default"}}
	tests := []struct {
		name    string
		objects []runtime.Object
		listErr error
		want    string
	}{
		{name: "clean"},
		{name: "object left", objects: []runtime.Object{left}, want: "objects landed in default: [Secret/sh.helm.release.v1.x.v1]"},
		{name: "List fails", listErr: errors.New("the server is on fire"), want: "list the ConfigMaps of default: the server is on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset(tt.objects...)
			if tt.listErr != nil {
				cs.PrependReactor("list", "*", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, tt.listErr })
			}
			rec := &errorRecorder{TB: t}
			checkNothingInDefault(rec, cs)
			got := strings.Join(rec.errs, "\n")
			switch {
			case tt.want == "" && got != "":
				t.Errorf("the check failed on a clean default: %s", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("the check reported %q, want %q", got, tt.want)
			}
		})
	}
}
