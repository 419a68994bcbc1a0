// Package registrytest gives tests a real OCI registry and the means to
// make it misbehave.
//
//   - New starts Debian's docker-registry (CNCF distribution 2.8, the
//     registry CI runs) on 127.0.0.1 with its storage in t.TempDir and
//     deletes enabled, or, where that binary is not installed, ggcr's
//     in-process registry behind httptest, adjusted to behave like
//     distribution where tests can tell: blobs belong to a repository
//     (pushing to one does not make them exist in another), deleting a
//     manifest by digest drops its tags, deleting a tag alone is refused
//     (TagDelete allows it). Both speak plain HTTP on 127.0.0.1, which ggcr
//     addresses without TLS, and both stop in t.Cleanup. Neither serves the
//     OCI referrers API (ReferrersAPI gives an in-process one that does), so
//     referrers live under the tag-schema fallback sha256-<hex>.
//   - NewFaultProxy sits in front of any registry (or any HTTP server) and
//     injects 5xx bursts, 429 with Retry-After, connection resets, truncated
//     or corrupted bodies and latency, chosen per method and path by Rules,
//     reproducible from a seed; it counts requests and bytes in each
//     direction (Stats), logs every request (Log), and can demand basic
//     auth (RequireBasicAuth).
//   - PushImage, PushIndex, PushReferrer, PushCosignSignature, Write and Tag
//     write fixtures (random content, chosen labels) straight to a
//     registry; Head reads where a tag points.
//   - Registry.CorruptBlob damages a stored blob in either backend, for
//     tests of integrity checks.
//
// A typical test:
//
//	reg := registrytest.New(t)
//	d := registrytest.PushImage(t, reg.Ref("app:v1"), registrytest.ImageSpec{
//		Layers: 2, Labels: map[string]string{"org.opencontainers.image.revision": sha},
//	})
//	p := registrytest.NewFaultProxy(t, reg.Host(), 1,
//		&registrytest.Rule{Method: "PUT", Path: `/manifests/`, Fault: registrytest.Status, First: 2})
//	// … exercise code against p.Host() instead of reg.Host() …
//	t.Log(p.Stats().BytesIn)
//
// Environment: SLIPWAY_TEST_REGISTRY=inprocess forces the in-process
// registry; SLIPWAY_TEST_REGISTRY=real fails a test when docker-registry is
// missing instead of falling back; SLIPWAY_DOCKER_REGISTRY overrides the
// binary's path (default /usr/bin/docker-registry).
package registrytest
