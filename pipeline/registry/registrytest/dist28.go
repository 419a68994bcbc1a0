package registrytest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
)

// dist28 wraps ggcr's in-process registry so that deletes behave as in
// distribution 2.8, the registry CI runs: DELETE of a manifest by digest
// also drops the tags that point at it (ggcr keeps them), and DELETE of a
// tag is refused with 400 (ggcr allows it) unless tagDelete.
type dist28 struct {
	inner     http.Handler
	tagDelete bool
	mu        sync.Mutex
}

var manifestPath = regexp.MustCompile(`^/v2/(.+)/manifests/([^/]+)$`)

func (d *dist28) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := manifestPath.FindStringSubmatch(r.URL.Path)
	if r.Method != http.MethodDelete || m == nil {
		d.inner.ServeHTTP(w, r)
		return
	}
	repo, ref := m[1], m[2]
	if !strings.Contains(ref, ":") {
		if !d.tagDelete {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}`))
			return
		}
		d.inner.ServeHTTP(w, r)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	tags := d.tagsOn(repo, ref)
	rec := httptest.NewRecorder()
	d.inner.ServeHTTP(rec, r)
	if rec.Code == http.StatusAccepted {
		for _, t := range tags {
			req := httptest.NewRequest(http.MethodDelete, "/v2/"+repo+"/manifests/"+t, nil)
			d.inner.ServeHTTP(httptest.NewRecorder(), req)
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// tagsOn lists repo's tags that point at digest.
func (d *dist28) tagsOn(repo, digest string) []string {
	rec := httptest.NewRecorder()
	d.inner.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v2/"+repo+"/tags/list", nil))
	var list struct {
		Tags []string `json:"tags"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &list) != nil {
		return nil
	}
	var out []string
	for _, t := range list.Tags {
		rec := httptest.NewRecorder()
		d.inner.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/v2/"+repo+"/manifests/"+t, nil))
		if rec.Header().Get("Docker-Content-Digest") == digest {
			out = append(out, t)
		}
	}
	return out
}
