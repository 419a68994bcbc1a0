package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway-ci/slipway/pipeline/gitctx"
)

// Registries have no compare-and-swap for tags: a PUT to a tag is
// last-writer-wins. Two promotions that both resolve a floating tag, see
// the baseline, and then write, both "succeed", and one silently undoes
// the other. Promote closes that window in three layers:
//
//  1. In one process, floating-tag moves per repository are serialized by
//     a lock (lockTable): the second promotion re-resolves after the first
//     wrote and fails with ErrBaselineMoved. Exact.
//  2. Across processes and machines, a lease in the registry itself: the
//     tag LeaseTag in the target repository, taken with Fischer's mutual
//     exclusion: read the lease; if it is free (absent, released or
//     expired), write our own (unique) lease, wait `settle`, read again;
//     ours still there → held. This is correct when every contender writes
//     within `settle` of reading (the write is one small PUT; settle
//     defaults to 1s) and the registry reads its own writes.
//  3. Inside the lease, floating tags are re-resolved just before the write
//     and read back after it: a write lost to anything that ignores the
//     lease (another tool, a slow contender) is reported as
//     ErrBaselineMoved rather than as a success.
//
// Limits across machines: (2) trusts a timing bound and read-after-write
// consistency of tags (true of distribution with filesystem storage, not
// promised by every hosted registry or a caching front); an expired lease
// (holder stalled past ttl, or clocks skewed by more than ttl) can admit a
// second holder; tools other than Slipway ignore the lease. (3) narrows what
// is left to a write landing between our write and our read-back.

// LeaseTag and PublishTag are Slipway's own tags (see gitctx, where the
// tag grammar keeps them).
const (
	LeaseTag   = gitctx.LeaseTag
	PublishTag = gitctx.PublishTag
)

// LeaseArtifactType is the artifact type of a lease manifest.
const LeaseArtifactType = "application/vnd.slipway.lease.v1+json"

const (
	annHolder   = "dev.slipway.lease.holder"
	annExpires  = "dev.slipway.lease.expires"
	annOwner    = "dev.slipway.lease.owner"
	annReleased = "dev.slipway.lease.released"
	// Who holds it, for people and for taking over a dead holder's lease:
	// the host name, the process id, the run id, and the machine's boot
	// id with the process's pid namespace (pids mean something only there).
	annHost  = "dev.slipway.lease.host"
	annPid   = "dev.slipway.lease.pid"
	annRun   = "dev.slipway.lease.run-id"
	annPidNS = "dev.slipway.lease.pid-namespace"
)

// IsInternalTag reports tags Slipway or OCI tooling keep for themselves
// (gitctx.IsInternalTag).
func IsInternalTag(tag string) bool { return gitctx.IsInternalTag(tag) }

type leaseConfig struct{ settle, ttl time.Duration }

// errLeaseLost: another process took the lease while we held it (its write
// came later than the settle time allows). Promote takes it again.
var errLeaseLost = errors.New("lost the lease")

// lockTable serializes work per key within a process; waits honour ctx.
type lockTable struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

var processLocks = newLockTable()

func newLockTable() *lockTable { return &lockTable{m: map[string]chan struct{}{}} }

func (t *lockTable) lock(ctx context.Context, key string) (func(), error) {
	t.mu.Lock()
	ch, ok := t.m[key]
	if !ok {
		ch = make(chan struct{}, 1)
		t.m[key] = ch
	}
	t.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type lease struct {
	s      *session
	repo   name.Repository
	holder string
	owner  leaseOwner
	mine   name.Digest // our lease manifest
}

type leaseState struct {
	digest   name.Digest
	holder   string
	owner    string
	expires  time.Time
	released bool
	host     string
	pid      int
	pidNS    string
}

func (st *leaseState) free(now time.Time) bool {
	return st == nil || st.released || !now.Before(st.expires)
}

// leaseOwner is who takes a lease: this process, for a run.
type leaseOwner struct {
	host  string
	pid   int
	runID string
	pidNS string // "" when unknown: then nobody can prove this process died
}

func currentOwner(runID string) leaseOwner {
	h, _ := os.Hostname()
	return leaseOwner{host: h, pid: os.Getpid(), runID: runID, pidNS: pidNamespace()}
}

func (o leaseOwner) String() string {
	s := fmt.Sprintf("%s pid %d", o.host, o.pid)
	if o.runID != "" {
		s += " (run " + o.runID + ")"
	}
	return s
}

// pidNamespace identifies the machine's boot and this process's pid
// namespace on Linux ("" elsewhere): two processes with the same host name
// and pid namespace id on the same boot see the same pids.
func pidNamespace() string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(boot)) + "/" + ns
}

// deadHolder reports whether st's holder provably died: it ran on this
// host, in this pid namespace on this boot, and its pid is gone. Anything
// less (another host, no namespace recorded) is not proof: the lease is
// waited out.
func deadHolder(st *leaseState, me leaseOwner) bool {
	if st == nil || st.pid <= 0 || st.host == "" || st.host != me.host || me.pidNS == "" || st.pidNS != me.pidNS || st.pid == me.pid {
		return false
	}
	return !processAlive(st.pid)
}

// acquireLease takes the repository's lease, waiting while another holds
// it, up to ttl plus a few settles (a crashed holder's lease expires).
func (s *session) acquireLease(repo name.Repository, owner leaseOwner) (*lease, error) {
	cfg := s.c.lease
	var nonce [16]byte
	rand.Read(nonce[:])
	l := &lease{s: s, repo: repo, holder: hex.EncodeToString(nonce[:]), owner: owner}
	giveUp := s.c.now().Add(cfg.ttl + 10*cfg.settle)
	// The empty blob every lease manifest references, first: the timed
	// read-to-write below is then two requests.
	if err := l.s.uploadEmpty(l.repo); err != nil {
		return nil, fmt.Errorf("writing lease: %w", err)
	}
	waitingFor := "" // the holder last reported as waited for
	for {
		readAt := time.Now()
		cur, err := l.read()
		if err != nil {
			return nil, err
		}
		now := s.c.now()
		if !cur.free(now) && cur.holder != l.holder && deadHolder(cur, owner) {
			s.c.log.Warn("taking over the lease of a process that died", "repository", repo.String(), "holder", cur.owner, "lease", LeaseTag)
		} else if !cur.free(now) && cur.holder != l.holder {
			if now.After(giveUp) {
				return nil, fmt.Errorf("repository %s is locked by %s (lease %s) until %s", repo, cur.owner, LeaseTag, cur.expires.Format(time.RFC3339))
			}
			if cur.holder != waitingFor {
				waitingFor = cur.holder
				s.c.log.Warn("waiting for the lease on floating tags", "repository", repo.String(), "holder", cur.owner,
					"until", cur.expires.UTC().Format(time.RFC3339), "lease", LeaseTag)
			}
			if err := sleep(s.ctx, cfg.settle/2+mathrand.N(cfg.settle/2+1)); err != nil {
				return nil, err
			}
			continue
		}
		d, err := l.write(now.Add(cfg.ttl), false)
		if err != nil {
			return nil, err
		}
		l.mine = d
		if gap := time.Since(readAt); gap >= cfg.settle {
			// Our read-to-write took too long for the settle time: another
			// contender may already hold the lease we just overwrote. Do not
			// count on this write; our lease, visible to it now, makes it
			// give the lease up at its next check. Try again later.
			s.c.log.Warn("lease read and write slower than the settle time; trying again",
				"repository", repo.String(), "took", gap.String(), "settle", cfg.settle.String())
			if s.c.now().After(giveUp) {
				return nil, fmt.Errorf("taking the lease on %s: the registry is too slow for a settle time of %v (read and write took %v)", repo, cfg.settle, gap)
			}
			if err := sleep(s.ctx, cfg.settle+mathrand.N(cfg.settle+1)); err != nil {
				return nil, err
			}
			continue
		}
		if err := sleep(s.ctx, cfg.settle); err != nil {
			return nil, err
		}
		again, err := l.read()
		if err != nil {
			return nil, err
		}
		if again != nil && again.holder == l.holder && !again.released {
			return l, nil
		}
	}
}

// check reports whether the lease is still ours, just before a write.
func (l *lease) check() error {
	cur, err := l.read()
	if err != nil {
		return err
	}
	if cur == nil || cur.holder != l.holder || cur.released {
		who := "nobody"
		if cur != nil {
			who = cur.owner
		}
		return fmt.Errorf("%w %s on %s to %s before moving floating tags", errLeaseLost, LeaseTag, l.repo, who)
	}
	return nil
}

// release marks the lease released and deletes its manifests where the
// registry allows (distribution then drops the tag). Failures are logged:
// the lease expires anyway.
func (l *lease) release() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(l.s.ctx), 30*time.Second)
	defer cancel()
	s := *l.s
	s.ctx = ctx
	ll := *l
	ll.s = &s
	cur, err := ll.read()
	if err != nil || cur == nil || cur.holder != l.holder {
		return
	}
	rel, err := ll.write(time.Time{}, true)
	if err != nil {
		l.s.c.log.Warn("releasing lease", "repository", l.repo.String(), "err", err.Error())
		return
	}
	for _, d := range []name.Digest{l.mine, rel} {
		if err := s.pusher.Delete(ctx, d); err != nil {
			l.s.c.log.Debug("deleting lease manifest", "manifest", d.String(), "err", err.Error())
		}
	}
}

func (l *lease) read() (*leaseState, error) {
	tag := l.repo.Tag(LeaseTag)
	desc, err := l.s.puller.Get(l.s.ctx, tag)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading lease %s: %w", tag, err)
	}
	var m v1.Manifest
	if json.Unmarshal(desc.Manifest, &m) != nil || m.ArtifactType != LeaseArtifactType {
		return nil, nil // not a lease: treat as free
	}
	exp, err := time.Parse(time.RFC3339Nano, m.Annotations[annExpires])
	if err != nil {
		return nil, nil
	}
	pid, _ := strconv.Atoi(m.Annotations[annPid])
	return &leaseState{
		digest:   l.repo.Digest(desc.Digest.String()),
		holder:   m.Annotations[annHolder],
		owner:    m.Annotations[annOwner],
		expires:  exp,
		released: m.Annotations[annReleased] == "true",
		host:     m.Annotations[annHost],
		pid:      pid,
		pidNS:    m.Annotations[annPidNS],
	}, nil
}

func (l *lease) write(expires time.Time, released bool) (name.Digest, error) {
	o := l.owner
	if o.host == "" && o.pid == 0 {
		o = currentOwner("")
	}
	empty := descriptorOf(emptyJSON, emptyMediaType)
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  LeaseArtifactType,
		Config:        empty,
		Layers:        []v1.Descriptor{empty},
		Annotations: map[string]string{
			annHolder:   l.holder,
			annOwner:    o.String(),
			annExpires:  expires.UTC().Format(time.RFC3339Nano),
			annReleased: fmt.Sprint(released),
			annHost:     o.host,
			annPid:      strconv.Itoa(o.pid),
		},
	}
	if o.runID != "" {
		m.Annotations[annRun] = o.runID
	}
	if o.pidNS != "" {
		m.Annotations[annPidNS] = o.pidNS
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return name.Digest{}, err
	}
	if err := l.s.put(l.repo.Tag(LeaseTag), rawManifest{raw, types.OCIManifestSchema1}); err != nil {
		return name.Digest{}, fmt.Errorf("writing lease %s: %w", l.repo.Tag(LeaseTag), err)
	}
	return l.repo.Digest(descriptorOf(raw, types.OCIManifestSchema1).Digest.String()), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func emptyLayer() v1.Layer { return static.NewLayer(emptyJSON, emptyMediaType) }
