package config

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/gitctx"
)

// Validate reports every problem of c (Load already ran it). The error is an
// Errors of *FieldError with field paths; lines are unknown here.
func (c *Config) Validate() error {
	if errs := validate(c, nil); len(errs) > 0 {
		return errs
	}
	return nil
}

var (
	// tagRE is the grammar of an OCI tag.
	tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	// platformRE is os/arch[/variant], as in linux/amd64 or linux/arm/v7.
	platformRE = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$`)
	// placeholderRE is a tag template's {placeholder}.
	placeholderRE = regexp.MustCompile(`\{[^{}]*\}`)
)

// validator collects problems; lines, when known, places them in the file.
type validator struct {
	errs  Errors
	lines map[string]int
}

func (v *validator) add(p, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Line: v.line(p), Path: p, Msg: fmt.Sprintf(format, args...)})
}

// line is where p is written, or else where the nearest field holding it is
// (a suite without a name: the suite's line).
func (v *validator) line(p string) int {
	for v.lines != nil {
		if l, ok := v.lines[p]; ok {
			return l
		}
		if p == "" {
			break
		}
		p = parent(p)
	}
	return 0
}

func validate(c *Config, lines map[string]int) Errors {
	v := &validator{lines: lines}
	if c.Version != Version {
		v.add("version", "%d is not supported (supported: %d)", c.Version, Version)
	}
	if c.Image != "" {
		v.imageAt("image", c.Image)
	}
	v.pinned("ephemeral.image", c.Ephemeral.Image)
	v.buildAt("build", &c.Build)
	v.images(c)
	v.test(&c.Test, c.ImageNames())
	v.imagesTested(c)
	v.gate(&c.Gate)
	v.scan(&c.Scan)
	v.smoke(&c.Smoke, c.Test.Suites, c.ImageNames())
	v.tags(&c.Tags)
	v.retention(&c.Retention)
	return v.errs
}

func (v *validator) imageAt(p, s string) {
	last := s[strings.LastIndexByte(s, '/')+1:]
	switch {
	case strings.Contains(s, "@"):
		v.add(p, "%q has a digest: give the repository only", s)
	case strings.Contains(last, ":"):
		v.add(p, "%q has a tag: give the repository only", s)
	default:
		if _, err := name.NewRepository(s); err != nil {
			v.add(p, "%q is not a repository: %v", s, err)
		}
	}
}

func (v *validator) buildAt(at string, b *Build) {
	v.relative(at+".dockerfile", b.Dockerfile, at+".context")
	v.relative(at+".context", b.Context, "the repository root")
	for k := range b.Args {
		if k == "" {
			v.add(keyPath(at+".args", k), "empty build argument name")
		}
	}
	if len(b.Platforms) == 0 {
		v.add(at+".platforms", "must list at least one platform")
	}
	for i, pl := range b.Platforms {
		p := index(at+".platforms", i)
		switch {
		case !platformRE.MatchString(pl):
			v.add(p, "%q is not a platform (os/arch[/variant], e.g. linux/amd64)", pl)
		case slices.Index(b.Platforms, pl) < i:
			v.add(p, "duplicate platform %q", pl)
		}
	}
	if !b.Buildpacks.IsZero() {
		v.buildpacks(at, b)
	}
}

// envNameRE is an environment variable name a buildpack can read.
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// buildpacks checks build.buildpacks (at is the build section's path)
// and what it excludes in build.
func (v *validator) buildpacks(at string, b *Build) {
	p := at + ".buildpacks"
	bp := b.Buildpacks
	switch {
	case bp.Builder == "":
		v.add(p+".builder", "must be set: the builder image, pinned by digest (repo@sha256:…)")
	case !isDigest(bp.Builder):
		v.add(p+".builder", "%q must be pinned by digest (repo@sha256:…): a builder change is then a change of slipway.yaml, which the gate judges like any other", bp.Builder)
	}
	for i, ref := range bp.Buildpacks {
		ip := index(p+".buildpacks", i)
		switch {
		case slices.Index(bp.Buildpacks, ref) < i:
			v.add(ip, "duplicate entry %q", ref)
		case ref == FromBuilder:
		case !isDigest(ref):
			v.add(ip, "%q is not a buildpack image pinned by digest (repo@sha256:…) or %s", ref, FromBuilder)
		}
	}
	for _, k := range sortedKeys(bp.Env) {
		switch {
		case !envNameRE.MatchString(k):
			v.add(keyPath(p+".env", k), "%q is not an environment variable name (letters, digits and _, not starting with a digit)", k)
		case strings.HasPrefix(k, "CNB_"):
			v.add(keyPath(p+".env", k), "CNB_ variables are the lifecycle's own, not the build's environment")
		}
	}
	if bp.RunImage != "" && !isDigest(bp.RunImage) {
		v.add(p+".runImage", "%q must be pinned by digest (repo@sha256:…)", bp.RunImage)
	}
	if len(b.Platforms) > 1 {
		v.add(at+".platforms", "a buildpacks build makes the image of one platform, with the builder's variant for it: list one platform")
	}
	if b.Target != "" {
		v.add(at+".target", "a buildpacks build has no Dockerfile stage: remove it (a runner stage is runner.build.target)")
	}
}

func isDigest(ref string) bool {
	_, err := name.NewDigest(ref)
	return err == nil
}

// relative checks a path that must stay inside of.
func (v *validator) relative(p, s, of string) {
	switch {
	case s == "":
		v.add(p, "must not be empty")
	case path.IsAbs(s):
		v.add(p, "%q must be relative to %s", s, of)
	case path.Clean(s) == ".." || strings.HasPrefix(path.Clean(s), "../"):
		v.add(p, "%q is outside %s", s, of)
	}
}

func (v *validator) test(t *Test, images []string) {
	if t.Parallelism < 1 {
		v.add("test.parallelism", "must be at least 1, got %d", t.Parallelism)
	}
	if t.Timeout <= 0 {
		v.add("test.timeout", "must be more than 0, got %s", t.Timeout)
	}
	if t.Retries < 0 {
		v.add("test.retries", "must not be negative, got %d", t.Retries)
	}
	for i, a := range t.Matrix {
		p := keyPath("test.matrix", a.Name)
		switch {
		case !axisNameRE.MatchString(a.Name):
			v.add(p, "axis name %q must match %s", a.Name, AxisNamePattern)
		case slices.IndexFunc(t.Matrix, func(b Axis) bool { return b.Name == a.Name }) < i:
			v.add(p, "duplicate axis")
		}
		if len(a.Values) == 0 {
			v.add(p, "axis has no values")
		}
		for j, val := range a.Values {
			switch {
			case val == "":
				v.add(index(p, j), "empty value")
			case slices.Index(a.Values, val) < j:
				v.add(index(p, j), "duplicate value %q", val)
			}
		}
	}
	v.cells("test.exclude", t.Exclude, t.Matrix, true)
	v.cells("test.include", t.Include, t.Matrix, false)
	for i := range t.Suites {
		v.suite(t.Suites, i, t.Matrix, images)
	}
}

// cells checks exclude or include entries: known axes, and for exclude
// values the axis has (include may add values).
func (v *validator) cells(p string, entries []map[string]string, m Matrix, known bool) {
	for i, e := range entries {
		ep := index(p, i)
		if len(e) == 0 {
			v.add(ep, "empty entry")
		}
		for _, k := range sortedKeys(e) {
			a, ok := m.Axis(k)
			switch {
			case !ok:
				v.add(keyPath(ep, k), "unknown axis%s", axesHint(m))
			case known && !slices.Contains(a.Values, e[k]):
				v.add(keyPath(ep, k), "%q is not a value of axis %s", e[k], k)
			}
		}
	}
}

func (v *validator) suite(suites []Suite, i int, m Matrix, images []string) {
	s := suites[i]
	p := index("test.suites", i)
	switch first := slices.IndexFunc(suites, func(o Suite) bool { return o.Name == s.Name }); {
	case s.Name == "":
		v.add(p+".name", "must not be empty")
	case first < i:
		v.add(p+".name", "duplicate suite name %q (first at %s)", s.Name, index("test.suites", first))
	}
	v.refs(p+".name", s.Name, m)
	switch {
	case s.Run.IsZero():
		v.add(p+".run", "must not be empty")
	case s.Run.Args != nil && s.Run.Args[0] == "":
		v.add(p+".run[0]", "the program must not be empty")
	}
	v.refs(p+".run", s.Run.Shell, m)
	for j, arg := range s.Run.Args {
		v.refs(index(p+".run", j), arg, m)
	}
	for _, k := range sortedKeys(s.Env) {
		if k == "" {
			v.add(keyPath(p+".env", k), "empty variable name")
		}
		v.refs(keyPath(p+".env", k), s.Env[k], m)
	}
	v.secrets(p+".secrets", s.Secrets, s.Env)
	v.secrets(p+".runner.secrets", s.Runner.Secrets, s.Env)
	for _, k := range sortedKeys(s.Runner.Secrets) {
		if _, ok := s.Secrets[k]; ok {
			v.add(keyPath(p+".runner.secrets", k), "%s is in the suite's secrets too: give it once", k)
		}
	}
	if s.Runner.IsZero() && len(s.Runner.Secrets) > 0 {
		v.add(p+".runner.secrets", "the suite has no runner (ref or build.target): give the secrets in the suite's secrets")
	}
	v.absolute(p+".workdir", s.Workdir)
	v.absolute(p+".mountSource", s.MountSource)
	for j, r := range s.Reports {
		if r == "" {
			v.add(index(p+".reports", j), "must not be empty")
		} else {
			v.absolute(index(p+".reports", j), r)
		}
	}
	v.platforms(p+".platforms", s.Platforms)
	v.runner(p+".runner", s.Runner)
	v.imageName(p+".runner.build.image", s.Runner.Build.Image, images)
	if s.Runner.Build.Image != "" && s.Runner.Build.Target == "" {
		v.add(p+".runner.build.image", "names the image whose Dockerfile builds the stage: give build.target too")
	}
	v.imageName(p+".image", s.Image, images)
	if s.Image != "" && !s.Runner.IsZero() {
		v.add(p+".image", "the command runs in the runner: name the image under test in services instead")
	}
	app := false
	for j, svc := range s.Services {
		sp := index(p+".services", j)
		v.service(sp, svc, m, images)
		if first := slices.IndexFunc(s.Services, func(o Service) bool { return o.Name == svc.Name }); first < j && svc.Name != "" {
			v.add(sp+".name", "duplicate service name %q (first at %s)", svc.Name, index(p+".services", first))
		}
		app = app || svc.Image != ""
	}
	if !s.Runner.IsZero() && !app {
		v.add(p+".runner", "a suite with a runner must start the image under test as a service (services: [{name: …, image: %s}]), or it tests nothing of it", images[0])
	}
}

// platforms checks a suite's or the smoke check's platforms value.
func (v *validator) platforms(p, value string) {
	switch value {
	case "", PlatformsFirst, PlatformsAll:
	default:
		v.add(p, "%q is not a platforms value (%s: the first of build.platforms, or %s: every platform built)", value, PlatformsFirst, PlatformsAll)
	}
}

// SecretNameRE is a secret's name, as the module's --secret-name gives it
// or its source (an environment variable, a file's base name) names it.
var SecretNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// secrets checks a container's secrets: each key an environment variable
// name (not also in env, not SLIPWAY_'s own) or an absolute file path,
// each value a secret name.
func (v *validator) secrets(p string, secrets Secrets, env map[string]string) {
	for _, k := range sortedKeys(secrets) {
		kp := keyPath(p, k)
		switch {
		case IsFile(k):
			if path.Clean(k) != k || k == "/" {
				v.add(kp, "%q is not a clean absolute file path", k)
			}
		case !envNameRE.MatchString(k):
			v.add(kp, "%q is neither an environment variable name (letters, digits and _) nor an absolute file path", k)
		case strings.HasPrefix(k, "SLIPWAY_"):
			v.add(kp, "SLIPWAY_ variables are Slipway's own")
		default:
			if _, ok := env[k]; ok {
				v.add(kp, "%s is in env too: give it in one of them", k)
			}
		}
		if !SecretNameRE.MatchString(secrets[k]) {
			v.add(kp, "%q is not a secret name (letters, digits, '.', '_' and '-', at most 128)", secrets[k])
		}
	}
}

// serviceNameRE is a DNS label: the host name a service is reached by.
var serviceNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func (v *validator) runner(p string, r Runner) {
	if r.Ref != "" && r.Build.Target != "" {
		v.add(p, "give ref or build.target, not both")
	}
	v.pinned(p+".ref", r.Ref)
}

func (v *validator) service(p string, s Service, m Matrix, images []string) {
	if !serviceNameRE.MatchString(s.Name) {
		v.add(p+".name", "%q is not a host name (lowercase letters, digits and '-', at most 63)", s.Name)
	}
	switch {
	case s.Image == "" && s.Ref == "":
		v.add(p, "give image: %s (the image under test) or ref: REPO@sha256:… (a sidecar)", images[0])
	case s.Image != "" && s.Ref != "":
		v.add(p, "give image or ref, not both")
	default:
		v.imageName(p+".image", s.Image, images)
	}
	v.pinned(p+".ref", s.Ref)
	for j, port := range s.Ports {
		if port < 1 || port > 65535 {
			v.add(index(p+".ports", j), "%d is not a port (1 to 65535)", port)
		}
	}
	for _, k := range sortedKeys(s.Env) {
		if k == "" {
			v.add(keyPath(p+".env", k), "empty variable name")
		}
		v.refs(keyPath(p+".env", k), s.Env[k], m)
	}
	v.secrets(p+".secrets", s.Secrets, s.Env)
	for j, a := range s.Args {
		v.refs(index(p+".args", j), a, m)
	}
	h := s.Health
	switch {
	case h.HTTP != "" && len(h.Exec) > 0:
		v.add(p+".health", "give http or exec, not both")
	case h.HTTP != "" && !strings.HasPrefix(h.HTTP, "/"):
		v.add(p+".health.http", "%q is not a path (it starts with /)", h.HTTP)
	case h.HTTP != "" && h.Port == 0 && len(s.Ports) == 0:
		v.add(p+".health.port", "the HTTP check needs a port: give health.port or ports")
	case h.HTTP == "" && h.Port != 0:
		v.add(p+".health.port", "only the HTTP check has a port")
	case len(h.Exec) > 0 && h.Exec[0] == "":
		v.add(p+".health.exec[0]", "the program must not be empty")
	}
	if h.Port != 0 && !slices.Contains(s.Ports, h.Port) {
		v.add(p+".health.port", "%d is not among the service's ports %v", h.Port, s.Ports)
	}
	if s.Timeout < 0 {
		v.add(p+".timeout", "must not be negative")
	}
}

// refs checks that every ${axis} in s names an axis.
func (v *validator) refs(p, s string, m Matrix) {
	for _, r := range Refs(s) {
		if _, ok := m.Axis(r); !ok {
			v.add(p, "${%s} is not a matrix axis%s; write $${%s} for a literal ${%s}", r, axesHint(m), r, r)
		}
	}
}

func (v *validator) absolute(p, s string) {
	if s != "" && !path.IsAbs(s) {
		v.add(p, "%q is not an absolute path", s)
	}
}

func axesHint(m Matrix) string {
	if len(m) == 0 {
		return " (the matrix has no axes)"
	}
	return " (axes: " + strings.Join(m.Names(), ", ") + ")"
}

func (v *validator) gate(g *Gate) {
	if g.Mode != ModeNoRegression && g.Mode != ModeStrict {
		v.add("gate.mode", "%q is not a gate mode (%s or %s)", g.Mode, ModeNoRegression, ModeStrict)
	}
	switch {
	case g.Baseline == "":
		v.add("gate.baseline", "must not be empty")
	case !tagRE.MatchString(g.Baseline):
		v.add("gate.baseline", "%q is not a valid tag", g.Baseline)
	}
	if g.Flaky != FlakyWarn && g.Flaky != FlakyFail {
		v.add("gate.flaky", "%q is not a flaky policy (%s or %s)", g.Flaky, FlakyWarn, FlakyFail)
	}
}

func (v *validator) scan(s *Scan) {
	switch s.Mode {
	case ScanNoNew, ScanStrict, ScanOff:
	default:
		v.add("scan.mode", "%q is not a scan mode (%s, %s or %s)", s.Mode, ScanNoNew, ScanStrict, ScanOff)
	}
	v.severities(s.Severity)
	if s.IgnoreFile != "" {
		v.relative("scan.ignoreFile", s.IgnoreFile, "the repository root")
	}
	v.repositories("scan.dbRepositories", s.DBRepositories, s.Offline)
	v.repositories("scan.javaDbRepositories", s.JavaDBRepositories, s.Offline)
	v.pinned("scan.image", s.Image)
}

func (v *validator) smoke(s *Smoke, suites []Suite, images []string) {
	switch s.Mode {
	case SmokeAuto, SmokeAlways, SmokeOff:
	default:
		v.add("smoke.mode", "%q is not a smoke mode (%s, %s or %s)", s.Mode, SmokeAuto, SmokeAlways, SmokeOff)
	}
	if d := s.Duration.Std(); d < time.Second || d > MaxSmokeDuration {
		v.add("smoke.duration", "%s is out of range (1s to %s)", d, MaxSmokeDuration)
	}
	v.platforms("smoke.platforms", s.Platforms)
	if !s.Runs(len(suites)) {
		return
	}
	for i, su := range suites {
		if slices.ContainsFunc(images, func(im string) bool { return su.Name == SmokeCellOf(im, len(images)) }) {
			v.add(index("test.suites", i)+".name", "%q is the smoke check's cell: rename the suite or set smoke.mode: off", su.Name)
		}
	}
}

// pinned checks an optional image reference that must be pinned by digest.
func (v *validator) pinned(p, ref string) {
	if ref == "" {
		return
	}
	if _, err := name.NewDigest(ref); err != nil {
		v.add(p, "%q is not pinned by digest (repo@sha256:…): %v", ref, err)
	}
}

// severities checks scan.severity: known names, from CRITICAL down to the
// threshold without a gap, so that the list and "at or above the
// threshold" say the same.
func (v *validator) severities(list []string) {
	const p = "scan.severity"
	all := Severities()
	if len(list) == 0 {
		v.add(p, "must list at least one severity (e.g. [CRITICAL, HIGH])")
		return
	}
	ok := true
	for i, s := range list {
		switch j := slices.Index(all, s); {
		case j < 0:
			hint := ""
			if k := slices.Index(all, strings.ToUpper(s)); k >= 0 {
				hint = fmt.Sprintf(" (write %s)", all[k])
			}
			v.add(index(p, i), "%q is not a severity%s: one of %s", s, hint, strings.Join(all, ", "))
			ok = false
		case slices.Index(list, s) < i:
			v.add(index(p, i), "duplicate severity %q", s)
			ok = false
		}
	}
	if !ok {
		return
	}
	lowest := 0
	for _, s := range list {
		lowest = max(lowest, slices.Index(all, s))
	}
	for _, s := range all[:lowest+1] {
		if !slices.Contains(list, s) {
			v.add(p, "lists %s but not %s: list every severity from CRITICAL down to the threshold (%s)", all[lowest], s, strings.Join(all[:lowest+1], ", "))
			return
		}
	}
}

// repositories checks a list of database repositories (OCI references).
func (v *validator) repositories(p string, list []string, offline bool) {
	if len(list) == 0 && !offline {
		v.add(p, "must list at least one repository (or set scan.offline)")
	}
	for i, r := range list {
		switch _, err := name.ParseReference(r); {
		case r == "":
			v.add(index(p, i), "must not be empty")
		case err != nil:
			v.add(index(p, i), "%q is not a repository reference: %v", r, err)
		case slices.Index(list, r) < i:
			v.add(index(p, i), "duplicate repository %q", r)
		}
	}
}

func (v *validator) tags(t *Tags) {
	v.templates("tags.immutable", t.Immutable, true)
	v.templates("tags.floating", t.Floating, false)
}

// templates checks tag templates: a valid tag once the placeholders are
// filled, no duplicates, then gitctx's grammar. An immutable tag without a
// placeholder could be written only once.
func (v *validator) templates(p string, list []string, immutable bool) {
	for i, t := range list {
		ip := index(p, i)
		filled := placeholderRE.ReplaceAllString(t, "x")
		switch {
		case !tagRE.MatchString(filled):
			v.add(ip, "%q is not a valid tag", t)
		case slices.Index(list, t) < i:
			v.add(ip, "duplicate tag %q", t)
		case gitctx.IsInternalTag(filled):
			v.add(ip, "%q is reserved for Slipway (%s, %s) or OCI tooling (sha256-<hex>)", t, gitctx.LeaseTag, gitctx.PublishTag)
		case immutable && filled == t:
			v.add(ip, "%q has no placeholder: an immutable tag can be written only once", t)
		case immutable:
			if _, err := gitctx.ImmutableClass(t); err != nil {
				v.add(ip, "%v", err)
			}
		default:
			if err := gitctx.CheckTemplates(nil, []string{t}); err != nil {
				v.add(ip, "%v", err)
			}
		}
	}
}

func (v *validator) retention(r *Retention) {
	v.nonNegative("retention.minAge", r.MinAge)
	v.nonNegative("retention.untagged.olderThan", r.Untagged.OlderThan)
	if r.RollbackTargets < 0 || r.RollbackTargets > MaxRollbackTargets {
		v.add("retention.rollbackTargets", "must be 0 to %d, got %d", MaxRollbackTargets, r.RollbackTargets)
	}
	for i, re := range r.Protect {
		v.regexp(index("retention.protect", i), re)
	}
	for i, rule := range r.Rules {
		p := index("retention.rules", i)
		if rule.Name != "" && slices.IndexFunc(r.Rules, func(o Rule) bool { return o.Name == rule.Name }) < i {
			v.add(p+".name", "duplicate rule name %q", rule.Name)
		}
		if rule.Class == "" && rule.Match == "" {
			v.add(p, "needs a class or a match")
		}
		if rule.Class != "" {
			if _, err := gitctx.ParseClass(rule.Class); err != nil {
				v.add(p+".class", "%v", err)
			}
		}
		if rule.Match != "" {
			v.regexp(p+".match", rule.Match)
		}
		v.nonNegative(p+".olderThan", rule.OlderThan)
		if rule.Keep < 0 {
			v.add(p+".keep", "must not be negative, got %d", rule.Keep)
		}
		switch {
		case rule.KeepPerMinor < 0:
			v.add(p+".keepPerMinor", "must not be negative, got %d", rule.KeepPerMinor)
		case rule.KeepPerMinor > 0 && rule.Class != string(gitctx.ClassSemver):
			v.add(p+".keepPerMinor", "only applies to class %s", gitctx.ClassSemver)
		}
	}
}

func (v *validator) nonNegative(p string, d Duration) {
	if d < 0 {
		v.add(p, "must not be negative, got %s", d)
	}
}

func (v *validator) regexp(p, re string) {
	if _, err := regexp.Compile(re); err != nil {
		msg := err.Error()
		var se *syntax.Error
		if errors.As(err, &se) {
			msg = se.Code.String()
		}
		v.add(p, "%q is not a valid regular expression: %s", re, msg)
	}
}

func index(p string, i int) string { return p + "[" + strconv.Itoa(i) + "]" }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
