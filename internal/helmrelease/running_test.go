package helmrelease

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metadatafake "k8s.io/client-go/metadata/fake"
)

// revision is a stored revision of release glance.
func revision(version int, status release.Status, ours bool, password string) *release.Release {
	r := &release.Release{Name: "glance", Namespace: "openstack", Version: version,
		Info:   &release.Info{Status: status},
		Config: map[string]any{"password": password}, Labels: map[string]string{}}
	if ours {
		r.Labels[LabelChartDigest] = "digest"
	}
	return r
}

func TestRunningFrom(t *testing.T) {
	for _, tc := range []struct {
		name      string
		revisions []*release.Release
		want      Running
	}{
		{"none", nil, Running{}},
		{"another tool's", []*release.Release{revision(1, release.StatusDeployed, false, "one")},
			Running{Found: true, Revision: 1, Config: map[string]any{"password": "one"}}},
		{"ours", []*release.Release{revision(1, release.StatusSuperseded, false, "one"), revision(2, release.StatusDeployed, true, "two")},
			Running{Found: true, Revision: 2, Ours: true, Config: map[string]any{"password": "two"}}},
		{"ours failed over another tool's: the deployed values, ours", []*release.Release{
			revision(1, release.StatusDeployed, false, "one"), revision(2, release.StatusFailed, true, "two")},
			Running{Found: true, Revision: 1, Ours: true, Config: map[string]any{"password": "one"}}},
		{"none deployed", []*release.Release{revision(1, release.StatusFailed, false, "one")}, Running{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := storage.Init(driver.NewMemory())
			for _, r := range tc.revisions {
				if err := st.Create(r); err != nil {
					t.Fatal(err)
				}
			}
			got, err := runningFrom(st, "glance")
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("running = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// storageMeta is the metadata of a Helm storage Secret.
func storageMeta(ns, name string, version int, status string, ours bool) *metav1.PartialObjectMetadata {
	labels := map[string]string{"owner": "helm", "name": name, "status": status, "version": fmt.Sprint(version)}
	if ours {
		labels[LabelChartDigest] = "digest"
	}
	return &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("sh.helm.release.v1.%s.v%d", name, version), Labels: labels}}
}

func TestListDeployed(t *testing.T) {
	other := storageMeta("openstack", "not-helm", 1, "deployed", false)
	other.Labels["owner"] = "someone"
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	mc := metadatafake.NewSimpleMetadataClient(scheme,
		storageMeta("openstack", "nova", 3, "deployed", true),
		storageMeta("openstack", "nova", 2, "superseded", true),
		storageMeta("openstack", "glance", 1, "superseded", false),
		storageMeta("openstack", "glance", 2, "deployed", false),
		storageMeta("openstack", "glance", 3, "failed", true),
		storageMeta("monitoring", "loki", 1, "deployed", false),
		other)
	got, err := ListDeployed(context.Background(), mc)
	if err != nil {
		t.Fatal(err)
	}
	want := []DeployedRelease{{"monitoring", "loki", 1, false}, {"openstack", "glance", 2, false}, {"openstack", "nova", 3, true}}
	if !slices.Equal(got, want) {
		t.Errorf("deployed = %#v\nwant %#v", got, want)
	}
}
