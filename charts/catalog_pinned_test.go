package charts

import "testing"

func TestPinnedIsTheOneEntryOfAName(t *testing.T) {
	c, err := ParseCatalog("test", []byte(`charts:
- {name: one, version: 1.0.0}
- {name: two, version: 1.0.0}
- {name: two, version: 2.0.0}
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want Ref
		ok   bool
	}{
		{"one", Ref{Name: "one", Version: "1.0.0"}, true},
		{"two", Ref{Name: "two"}, false},
		{"none", Ref{Name: "none"}, false},
	}
	for _, tt := range tests {
		got, ok := c.Pinned(tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Pinned(%s) = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
