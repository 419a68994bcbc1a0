package registrytest_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

func backends(t *testing.T) map[string][]registrytest.Option {
	return map[string][]registrytest.Option{
		"default":   nil,
		"inprocess": {registrytest.InProcess()},
	}
}

func TestRegistryPushAndReferrers(t *testing.T) {
	t.Parallel()
	for name_, opts := range backends(t) {
		t.Run(name_, func(t *testing.T) {
			t.Parallel()
			reg := registrytest.New(t, opts...)
			if strings.HasPrefix(name_, "inprocess") && reg.Real() {
				t.Fatal("InProcess gave the real registry")
			}
			d := registrytest.PushImage(t, reg.Ref("app:v1"), registrytest.ImageSpec{Layers: 2, Labels: map[string]string{"a": "b"}})
			got, ok := registrytest.Head(t, reg.Ref("app:v1"))
			if !ok || got != d {
				t.Fatalf("Head = %v %v, want %v", got, ok, d)
			}
			if _, ok := registrytest.Head(t, reg.Ref("app:missing")); ok {
				t.Fatal("Head of a missing tag reported it present")
			}
			img, err := remote.Image(d)
			if err != nil {
				t.Fatal(err)
			}
			cf, err := img.ConfigFile()
			if err != nil || cf.Config.Labels["a"] != "b" {
				t.Fatalf("labels = %v, %v", cf.Config.Labels, err)
			}
			ref := registrytest.PushReferrer(t, d, "application/vnd.test.sbom")
			idx, err := remote.Referrers(d)
			if err != nil {
				t.Fatal(err)
			}
			im, _ := idx.IndexManifest()
			if len(im.Manifests) != 1 || im.Manifests[0].Digest.String() != ref.DigestStr() {
				t.Fatalf("referrers = %+v, want %s", im.Manifests, ref)
			}
			sig := registrytest.PushCosignSignature(t, d)
			if got, ok := registrytest.Head(t, reg.Ref("app:"+strings.Replace(d.DigestStr(), ":", "-", 1)+".sig")); !ok || got != sig {
				t.Fatalf("signature tag = %v %v, want %v", got, ok, sig)
			}
			ix := registrytest.PushIndex(t, reg.Ref("multi:v1"), registrytest.ImageSpec{}, registrytest.ImageSpec{})
			if got, _ := registrytest.Head(t, reg.Ref("multi:v1")); got != ix {
				t.Fatalf("index = %v, want %v", got, ix)
			}
		})
	}
}

func TestCorruptBlob(t *testing.T) {
	t.Parallel()
	for name_, opts := range backends(t) {
		for _, how := range []registrytest.Corruption{registrytest.FlipByte, registrytest.Truncate} {
			t.Run(name_, func(t *testing.T) {
				t.Parallel()
				reg := registrytest.New(t, opts...)
				d := registrytest.PushImage(t, reg.Ref("app:v1"), registrytest.ImageSpec{LayerSize: 4096})
				img, _ := remote.Image(d)
				layers, _ := img.Layers()
				h, _ := layers[0].Digest()
				reg.CorruptBlob(t, h, how)
				l, err := remote.Layer(d.Context().Digest(h.String()))
				if err != nil {
					t.Fatal(err)
				}
				rc, err := l.Compressed()
				if err == nil {
					_, err = io.Copy(io.Discard, rc)
					rc.Close()
				}
				if err == nil {
					t.Fatal("reading a corrupted blob succeeded")
				}
			})
		}
	}
}

func TestFaultProxy(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	d := registrytest.PushImage(t, reg.Ref("app:v1"), registrytest.ImageSpec{LayerSize: 2048})

	t.Run("burst then clear", func(t *testing.T) {
		p := registrytest.NewFaultProxy(t, reg.Host(), 1,
			&registrytest.Rule{Method: http.MethodHead, Path: `/manifests/`, Fault: registrytest.Status, First: 2, Status: 500})
		ref, _ := name.ParseReference(p.Host() + "/app:v1")
		noRetry := remote.WithRetryBackoff(remote.Backoff{Steps: 1})
		for i, wantErr := range []bool{true, true, false} {
			_, err := remote.Head(ref, noRetry)
			if (err != nil) != wantErr {
				t.Fatalf("HEAD %d: err = %v, want error %v", i, err, wantErr)
			}
			var terr *transport.Error
			if wantErr && (!errors.As(err, &terr) || terr.StatusCode != 500) {
				t.Fatalf("HEAD %d: err = %v, want 500", i, err)
			}
		}
		s := p.Stats()
		if s.Injected != 2 || s.ByMethod[http.MethodHead] != 3 {
			t.Fatalf("stats = %+v", s)
		}
	})

	t.Run("error code", func(t *testing.T) {
		for _, tt := range []struct {
			rule *registrytest.Rule
			want transport.ErrorCode
		}{
			{&registrytest.Rule{Fault: registrytest.Status}, transport.UnavailableErrorCode},
			{&registrytest.Rule{Fault: registrytest.Status, Status: 400, Code: "MANIFEST_BLOB_UNKNOWN"}, transport.ManifestBlobUnknownErrorCode},
		} {
			p := registrytest.NewFaultProxy(t, reg.Host(), 1, tt.rule)
			ref, _ := name.ParseReference(p.Host() + "/app:v1")
			_, err := remote.Get(ref, remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
			var terr *transport.Error
			if !errors.As(err, &terr) || len(terr.Errors) != 1 || terr.Errors[0].Code != tt.want {
				t.Fatalf("GET with code %q: err = %v, want code %s", tt.rule.Code, err, tt.want)
			}
		}
	})

	t.Run("truncate and corrupt", func(t *testing.T) {
		img, _ := remote.Image(d)
		layers, _ := img.Layers()
		h, _ := layers[0].Digest()
		for _, f := range []registrytest.Fault{registrytest.TruncateBody, registrytest.CorruptBody} {
			p := registrytest.NewFaultProxy(t, reg.Host(), 2, &registrytest.Rule{Method: http.MethodGet, Path: `/blobs/sha256:`, Fault: f})
			ld, err := name.NewDigest(p.Host() + "/app@" + h.String())
			if err != nil {
				t.Fatal(err)
			}
			l, err := remote.Layer(ld)
			if err != nil {
				t.Fatal(err)
			}
			rc, err := l.Compressed()
			if err == nil {
				_, err = io.Copy(io.Discard, rc)
			}
			if err == nil {
				t.Fatalf("%v: reading through the proxy succeeded", f)
			}
		}
	})

	t.Run("429 and reset and latency", func(t *testing.T) {
		p := registrytest.NewFaultProxy(t, reg.Host(), 3,
			&registrytest.Rule{Path: `/manifests/v1$`, Method: http.MethodHead, Fault: registrytest.TooManyRequests, First: 1, RetryAfter: 2 * time.Second},
			&registrytest.Rule{Path: `/manifests/v1$`, Method: http.MethodHead, Fault: registrytest.Reset, First: 1},
			&registrytest.Rule{Path: `/manifests/v1$`, Fault: registrytest.Latency, Delay: 30 * time.Millisecond})
		// No keep-alive: Go retries an idempotent request once by itself
		// when a reused connection closes without an answer.
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Head("http://" + p.Host() + "/v2/app/manifests/v1")
		if err != nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
			t.Fatalf("first: %v %v", resp, err)
		}
		if _, err := c.Head("http://" + p.Host() + "/v2/app/manifests/v1"); err == nil {
			t.Fatal("second: no reset")
		}
		start := time.Now()
		resp, err = c.Head("http://" + p.Host() + "/v2/app/manifests/v1")
		if err != nil || resp.StatusCode != 200 || time.Since(start) < 30*time.Millisecond {
			t.Fatalf("third: %v %v after %v", resp, err, time.Since(start))
		}
		log := p.Log()
		if len(log) != 3 || log[0].Fault != registrytest.TooManyRequests || log[1].Fault != registrytest.Reset || log[2].Status != 200 {
			t.Fatalf("log = %+v", log)
		}
	})

	t.Run("counts bytes", func(t *testing.T) {
		p := registrytest.NewFaultProxy(t, reg.Host(), 4)
		img := registrytest.NewImage(t, registrytest.ImageSpec{LayerSize: 100000, Raw: true})
		registrytest.Write(t, p.Host()+"/counted:v1", img)
		s := p.Stats()
		if s.BodyIn < 100000 || s.BytesIn <= s.BodyIn {
			t.Fatalf("stats = %+v, want ≥100000 body bytes in", s)
		}
	})

	t.Run("seeded probability is reproducible", func(t *testing.T) {
		run := func() []registrytest.Fault {
			p := registrytest.NewFaultProxy(t, reg.Host(), 42, &registrytest.Rule{Fault: registrytest.Status, Prob: 0.5})
			for range 20 {
				resp, err := http.Get("http://" + p.Host() + "/v2/")
				if err == nil {
					resp.Body.Close()
				}
			}
			var fs []registrytest.Fault
			for _, r := range p.Log() {
				fs = append(fs, r.Fault)
			}
			return fs
		}
		a, b := run(), run()
		if len(a) != 20 || strings.Join(faults(a), ",") != strings.Join(faults(b), ",") {
			t.Fatalf("runs differ:\n%v\n%v", a, b)
		}
	})

	t.Run("basic auth", func(t *testing.T) {
		p := registrytest.NewFaultProxy(t, reg.Host(), 5)
		p.RequireBasicAuth("u", "p")
		req, _ := http.NewRequest(http.MethodGet, "http://"+p.Host()+"/v2/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 401 {
			t.Fatalf("anonymous: %v %v", resp, err)
		}
		req.Header.Set("Authorization", registrytest.BasicAuthHeader("u", "p"))
		resp, err = http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("with credentials: %v %v", resp, err)
		}
		if s := p.Stats(); s.AuthOK != 1 || s.AuthFail != 1 {
			t.Fatalf("stats = %+v", s)
		}
	})
}

func faults(fs []registrytest.Fault) []string {
	var s []string
	for _, f := range fs {
		s = append(s, f.String())
	}
	return s
}

var _ = v1.Hash{}

// Both backends delete like distribution 2.8.
func TestDeleteSemantics(t *testing.T) {
	t.Parallel()
	for name_, opts := range map[string][]registrytest.Option{"default": nil, "inprocess": {registrytest.InProcess()}, "tagdelete": {registrytest.TagDelete()}} {
		t.Run(name_, func(t *testing.T) {
			t.Parallel()
			reg := registrytest.New(t, opts...)
			d := registrytest.PushImage(t, reg.Ref("app:v1"), registrytest.ImageSpec{})
			registrytest.Tag(t, reg.Ref("app:v2"), d)
			del := func(ref string) int {
				req, _ := http.NewRequest(http.MethodDelete, "http://"+reg.Host()+"/v2/app/manifests/"+ref, nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			wantTagDelete := http.StatusBadRequest
			if name_ == "tagdelete" {
				wantTagDelete = http.StatusAccepted
			}
			if got := del("v2"); got != wantTagDelete {
				t.Fatalf("DELETE tag: %d, want %d", got, wantTagDelete)
			}
			if got := del(d.DigestStr()); got != http.StatusAccepted {
				t.Fatalf("DELETE digest: %d", got)
			}
			for _, ref := range []string{"app:v1", "app:v2", "app@" + d.DigestStr()} {
				if _, ok := registrytest.Head(t, reg.Ref(ref)); ok {
					t.Fatalf("%s is still there after deleting its manifest", ref)
				}
			}
		})
	}
}
