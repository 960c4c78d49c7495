package openstackfake

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Glance serves the image API as glance does for what gophercloud uses;
// uploads are read as a stream and only their md5 and size are kept.
type Glance struct {
	Faults
	store
}

func (g *Glance) image(id string) map[string]any {
	_, img := g.find("images", func(o map[string]any) bool { return o["id"] == id })
	return img
}

func (g *Glance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.inject(w, "boom") {
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v2/images")
	id := strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/file")
	if r.Method == http.MethodPut && strings.HasSuffix(path, "/file") {
		// Read the upload outside the lock, as a stream.
		h := md5.New()
		size, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		img := g.image(id)
		if img == nil {
			http.NotFound(w, r)
			return
		}
		img["checksum"], img["size"], img["status"] = hex.EncodeToString(h.Sum(nil)), size, "active"
		w.WriteHeader(204)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && path == "":
		list := []map[string]any{}
		for _, img := range g.objects["images"] {
			if matches(img, r) {
				list = append(list, img)
			}
		}
		reply(w, 200, map[string]any{"images": list})
	case r.Method == http.MethodPost && path == "":
		var img map[string]any
		json.NewDecoder(r.Body).Decode(&img)
		g.next++
		img["id"], img["status"], img["owner"] = fmt.Sprintf("img-%d", g.next), "queued", "service"
		g.add("images", img)
		reply(w, 201, img)
	case r.Method == http.MethodGet:
		img := g.image(id)
		if img == nil {
			http.NotFound(w, r)
			return
		}
		reply(w, 200, img)
	case r.Method == http.MethodDelete:
		if i, _ := g.find("images", func(o map[string]any) bool { return o["id"] == id }); i >= 0 {
			g.remove("images", i)
		}
		w.WriteHeader(204)
	default:
		http.NotFound(w, r)
	}
}
