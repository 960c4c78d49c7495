package deploy

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestReadEvents(t *testing.T) {
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	written := []Event{
		{Time: at, Unit: "keystone:install", Component: "keystone", Phase: "install", Kind: Started},
		{Time: at.Add(time.Second), Unit: "keystone:install", Component: "keystone", Phase: "install", Kind: Failed, Duration: time.Second, Error: "Job/openstack/keystone-db-sync: BackoffLimitExceeded"},
	}
	var stream bytes.Buffer
	for _, e := range written {
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		stream.Write(append(raw, '\n'))
	}
	cases := []struct {
		name    string
		stream  string
		want    int
		wantErr string
	}{
		{"what --output json writes", stream.String(), 2, ""},
		{"empty", "", 0, ""},
		{"a line that is not JSON", stream.String() + "error: deploy failed\n", 2, "line 3: not an event"},
		{"an object that is not an event", `{"hello": "world"}` + "\n", 0, "line 1: an event without unit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadEvents(strings.NewReader(tc.stream))
			if len(got) != tc.want {
				t.Errorf("%d events, want %d", len(got), tc.want)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			if tc.want == 2 && (got[1] != written[1]) {
				t.Errorf("read %+v, wrote %+v", got[1], written[1])
			}
		})
	}
}
