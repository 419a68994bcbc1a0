package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	trpb "github.com/in-toto/attestation/go/predicates/test_result/v0"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// Types of statements, predicates and payloads.
const (
	// StatementType is the _type of the statements made here (in-toto v1).
	StatementType = intoto.StatementTypeUri
	// StatementTypeV01 is the older in-toto statement type (cosign attest
	// still writes it). Open accepts it: its fields read here are the same.
	StatementTypeV01 = "https://in-toto.io/Statement/v0.1"
	// TestResultType is the in-toto test-result predicate type.
	TestResultType = "https://in-toto.io/attestation/test-result/v0.1"
	// PromotionType is Slipway's promotion predicate type (see the package
	// documentation for its fields).
	PromotionType = "https://github.com/slipway-ci/slipway/attestation/promotion/v1"
	// PayloadType is the DSSE payloadType of an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
)

// Values of TestResult.Result.
const (
	ResultPassed = "PASSED"
	ResultWarned = "WARNED"
	ResultFailed = "FAILED"
)

// Values of Promotion.Decision. Only DecisionPass promotes.
const (
	DecisionPass  = "pass"
	DecisionBlock = "block"
)

// Subject is the image a statement is about.
type Subject struct {
	// Name is the repository, e.g. "ghcr.io/acme/app".
	Name string
	// Digest is the manifest digest, "sha256:<64 lowercase hex>".
	Digest string
}

// Resource is an in-toto ResourceDescriptor: at least one of Name, URI or
// Digest is set.
type Resource struct {
	Name string
	URI  string
	// Digest maps an algorithm ("sha256", "gitCommit", ...) to a hex digest.
	Digest map[string]string
}

// TestResult is the in-toto test-result predicate.
type TestResult struct {
	// Result is ResultPassed, ResultWarned or ResultFailed.
	Result string
	// Configuration is what configured the run; at least one is required.
	Configuration []Resource
	// URL links to the test run; optional.
	URL                    string
	Passed, Warned, Failed []string
}

// Promotion is Slipway's promotion predicate: the gate's verdict. The
// package documentation describes each field.
type Promotion struct {
	Decision string
	Mode     string
	// Baseline is the digest compared with, or "" when there was none.
	Baseline string
	RunID    string
	Revision string
	Reasons  []string
	Tags     []string
	// Time is when the decision was made; it is written in UTC to the
	// second.
	Time time.Time
}

var (
	digestRE   = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	decisionRE = regexp.MustCompile(`^[a-z][a-z-]{0,31}$`)
)

// checkDigest reports whether d is "sha256:<64 lowercase hex>".
func checkDigest(what, d string) error {
	if !digestRE.MatchString(d) {
		return fmt.Errorf("%s %q is not sha256:<64 lowercase hex>", what, clip(d, 80))
	}
	return nil
}

// TestResultStatement returns the statement that subject had the test
// result tr, as deterministic JSON.
func TestResultStatement(subject Subject, tr TestResult) ([]byte, error) {
	pred, err := testResultStruct(tr)
	if err != nil {
		return nil, fmt.Errorf("making test-result statement: %w", err)
	}
	b, err := statement(subject, TestResultType, pred)
	if err != nil {
		return nil, fmt.Errorf("making test-result statement: %w", err)
	}
	return b, nil
}

// TestResultPredicate returns the test-result predicate alone, as
// deterministic JSON: what `cosign attest --predicate FILE --type
// https://in-toto.io/attestation/test-result/v0.1` puts in its statement.
func TestResultPredicate(tr TestResult) ([]byte, error) {
	pred, err := testResultStruct(tr)
	if err != nil {
		return nil, fmt.Errorf("making test-result predicate: %w", err)
	}
	return marshalCompact(pred)
}

// PromotionStatement returns the statement that the gate decided p about
// subject, as deterministic JSON.
func PromotionStatement(subject Subject, p Promotion) ([]byte, error) {
	pred, err := promotionStruct(p)
	if err != nil {
		return nil, fmt.Errorf("making promotion statement: %w", err)
	}
	b, err := statement(subject, PromotionType, pred)
	if err != nil {
		return nil, fmt.Errorf("making promotion statement: %w", err)
	}
	return b, nil
}

func statement(subject Subject, predicateType string, pred *structpb.Struct) ([]byte, error) {
	if subject.Name == "" {
		return nil, errors.New("subject has no name")
	}
	if err := checkDigest("subject digest", subject.Digest); err != nil {
		return nil, err
	}
	st := &intoto.Statement{
		Type: StatementType,
		Subject: []*intoto.ResourceDescriptor{{
			Name:   subject.Name,
			Digest: map[string]string{"sha256": strings.TrimPrefix(subject.Digest, "sha256:")},
		}},
		PredicateType: predicateType,
		Predicate:     pred,
	}
	if err := st.Validate(); err != nil {
		return nil, err
	}
	return marshalCompact(st)
}

// marshalCompact is protojson without its deliberately unstable whitespace:
// fields in field-number order, map and Struct keys sorted.
func marshalCompact(m proto.Message) ([]byte, error) {
	b, err := protojson.Marshal(m)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func testResultStruct(tr TestResult) (*structpb.Struct, error) {
	if err := checkResult(tr.Result); err != nil {
		return nil, err
	}
	if len(tr.Configuration) == 0 {
		return nil, errors.New("test result has no configuration (the test-result predicate requires one)")
	}
	if tr.URL != "" {
		if u, err := url.Parse(tr.URL); err != nil || !u.IsAbs() {
			return nil, fmt.Errorf("test result url %q is not an absolute URL", clip(tr.URL, 80))
		}
	}
	pb := &trpb.TestResult{
		Result:      tr.Result,
		Url:         tr.URL,
		PassedTests: tr.Passed,
		WarnedTests: tr.Warned,
		FailedTests: tr.Failed,
	}
	for i, r := range tr.Configuration {
		rd := &intoto.ResourceDescriptor{Name: r.Name, Uri: r.URI, Digest: r.Digest}
		if err := rd.Validate(); err != nil {
			return nil, fmt.Errorf("test result configuration %d: %w", i, err)
		}
		pb.Configuration = append(pb.Configuration, rd)
	}
	for _, names := range [][]string{tr.Passed, tr.Warned, tr.Failed} {
		if slices.Contains(names, "") {
			return nil, errors.New("test result has an empty test name")
		}
	}
	b, err := protojson.Marshal(pb)
	if err != nil {
		return nil, err
	}
	s := &structpb.Struct{}
	if err := protojson.Unmarshal(b, s); err != nil {
		return nil, err
	}
	return s, nil
}

func checkResult(r string) error {
	switch r {
	case ResultPassed, ResultWarned, ResultFailed:
		return nil
	}
	return fmt.Errorf("test result %q is not %s, %s or %s", clip(r, 40), ResultPassed, ResultWarned, ResultFailed)
}

func promotionStruct(p Promotion) (*structpb.Struct, error) {
	if !decisionRE.MatchString(p.Decision) {
		return nil, fmt.Errorf("promotion decision %q is not a lowercase word such as %q or %q", clip(p.Decision, 40), DecisionPass, DecisionBlock)
	}
	if p.Baseline != "" {
		if err := checkDigest("promotion baseline", p.Baseline); err != nil {
			return nil, err
		}
	}
	if p.Time.IsZero() {
		return nil, errors.New("promotion has no time")
	}
	if slices.Contains(p.Tags, "") {
		return nil, errors.New("promotion has an empty tag")
	}
	return structpb.NewStruct(map[string]any{
		"decision": p.Decision,
		"mode":     p.Mode,
		"baseline": p.Baseline,
		"reasons":  strings2any(p.Reasons),
		"runId":    p.RunID,
		"revision": p.Revision,
		"tags":     strings2any(p.Tags),
		"time":     p.Time.UTC().Truncate(time.Second).Format(time.RFC3339),
	})
}

func strings2any(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// clip shortens s for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// parseStatement reads an in-toto statement as cosign would, checking it
// against the in-toto library's rules.
func parseStatement(payload []byte) (*Opened, error) {
	var st intoto.Statement
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStatement, err)
	}
	typ := st.GetType()
	if typ != StatementType && typ != StatementTypeV01 {
		return nil, fmt.Errorf("%w: _type %q is not %s", ErrStatement, clip(typ, 80), StatementType)
	}
	st.Type = StatementType // v0.1 follows the same rules for what is read here
	err := st.Validate()
	st.Type = typ
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStatement, err)
	}
	o := &Opened{Type: typ, PredicateType: st.GetPredicateType(), Statement: payload}
	for _, rd := range st.GetSubject() {
		o.Subjects = append(o.Subjects, Resource{Name: rd.GetName(), URI: rd.GetUri(), Digest: rd.GetDigest()})
	}
	if o.Predicate, err = marshalCompact(st.GetPredicate()); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStatement, err)
	}
	// cosign reads the predicate type and subject digests with encoding/json
	// (case-insensitive names, the last of duplicates); protojson accepts
	// proto names too. Refuse what the two would read differently.
	var loose struct {
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(payload, &loose); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStatement, err)
	}
	same := loose.PredicateType == o.PredicateType && len(loose.Subject) == len(o.Subjects)
	for i := 0; same && i < len(o.Subjects); i++ {
		same = maps2eq(loose.Subject[i].Digest, o.Subjects[i].Digest)
	}
	if !same {
		return nil, fmt.Errorf("%w: predicateType or subject digests are ambiguous (field names differ from in-toto's)", ErrStatement)
	}
	return o, nil
}

func maps2eq(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Opened is a statement whose envelope signature verified.
type Opened struct {
	// Type is the statement's _type: StatementType or StatementTypeV01.
	Type string
	// Subjects are the artifacts the statement is about.
	Subjects      []Resource
	PredicateType string
	// Predicate is the predicate as compact JSON, keys sorted.
	Predicate json.RawMessage
	// Statement is the signed payload, as signed.
	Statement []byte
}

// HasSubject reports whether a subject of o has the sha256 digest d
// ("sha256:<hex>"), the check cosign makes.
func (o *Opened) HasSubject(d string) bool {
	return o.subjectIndex(d) >= 0
}

func (o *Opened) subjectIndex(d string) int {
	hexd, ok := strings.CutPrefix(d, "sha256:")
	if !ok {
		return -1
	}
	for i, s := range o.Subjects {
		if got, ok := s.Digest["sha256"]; ok && got == hexd {
			return i
		}
	}
	return -1
}

// firstSHA256 is the first sha256 subject digest, "sha256:<hex>", or "".
func (o *Opened) firstSHA256() string {
	for _, s := range o.Subjects {
		if got, ok := s.Digest["sha256"]; ok {
			return "sha256:" + got
		}
	}
	return ""
}

// TestResult parses o's test-result predicate.
func (o *Opened) TestResult() (*TestResult, error) {
	if o.PredicateType != TestResultType {
		return nil, fmt.Errorf("%w: predicate type %q is not %s", ErrPredicate, clip(o.PredicateType, 80), TestResultType)
	}
	var pb trpb.TestResult
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(o.Predicate, &pb); err != nil {
		return nil, fmt.Errorf("%w: test-result: %v", ErrPredicate, err)
	}
	if err := checkResult(pb.GetResult()); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPredicate, err)
	}
	tr := &TestResult{
		Result: pb.GetResult(),
		URL:    pb.GetUrl(),
		Passed: pb.GetPassedTests(),
		Warned: pb.GetWarnedTests(),
		Failed: pb.GetFailedTests(),
	}
	for _, rd := range pb.GetConfiguration() {
		tr.Configuration = append(tr.Configuration, Resource{Name: rd.GetName(), URI: rd.GetUri(), Digest: rd.GetDigest()})
	}
	return tr, nil
}

// Promotion parses o's promotion predicate.
func (o *Opened) Promotion() (*Promotion, error) {
	if o.PredicateType != PromotionType {
		return nil, fmt.Errorf("%w: predicate type %q is not %s", ErrPredicate, clip(o.PredicateType, 80), PromotionType)
	}
	var s structpb.Struct
	if err := protojson.Unmarshal(o.Predicate, &s); err != nil {
		return nil, fmt.Errorf("%w: promotion: %v", ErrPredicate, err)
	}
	f := s.GetFields()
	var p Promotion
	var errs []error
	str := func(name string, dst *string) {
		v, ok := f[name]
		if !ok {
			errs = append(errs, fmt.Errorf("no %s", name))
			return
		}
		sv, ok := v.GetKind().(*structpb.Value_StringValue)
		if !ok {
			errs = append(errs, fmt.Errorf("%s is not a string", name))
			return
		}
		*dst = sv.StringValue
	}
	list := func(name string, dst *[]string) {
		v, ok := f[name]
		if !ok {
			errs = append(errs, fmt.Errorf("no %s", name))
			return
		}
		lv, ok := v.GetKind().(*structpb.Value_ListValue)
		if !ok {
			errs = append(errs, fmt.Errorf("%s is not a list", name))
			return
		}
		for _, e := range lv.ListValue.GetValues() {
			sv, ok := e.GetKind().(*structpb.Value_StringValue)
			if !ok {
				errs = append(errs, fmt.Errorf("%s has a value that is not a string", name))
				return
			}
			*dst = append(*dst, sv.StringValue)
		}
	}
	var when string
	str("decision", &p.Decision)
	str("mode", &p.Mode)
	str("baseline", &p.Baseline)
	list("reasons", &p.Reasons)
	str("runId", &p.RunID)
	str("revision", &p.Revision)
	list("tags", &p.Tags)
	str("time", &when)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: promotion: %v", ErrPredicate, errs[0])
	}
	if p.Decision == "" {
		return nil, fmt.Errorf("%w: promotion: decision is empty", ErrPredicate)
	}
	t, err := time.Parse(time.RFC3339, when)
	if err != nil {
		return nil, fmt.Errorf("%w: promotion: time %q is not RFC 3339", ErrPredicate, clip(when, 40))
	}
	p.Time = t
	return &p, nil
}

// shortHex is a digest or revision cut to n hex digits, for messages.
func shortHex(s string, n int) string {
	algo, hexd, ok := strings.Cut(s, ":")
	if !ok {
		algo, hexd = "", s
	} else {
		algo += ":"
	}
	if len(hexd) <= n {
		return s
	}
	return algo + hexd[:n] + "…"
}

// abbrevPair shortens a and b to at least n digits, more where they share a
// longer prefix, so the two always read differently.
func abbrevPair(a, b string, n int) (string, string) {
	if a == b {
		return a, b
	}
	common := 0
	for common < len(a) && common < len(b) && a[common] == b[common] {
		common++
	}
	prefix := 0
	if i := strings.IndexByte(a, ':'); i >= 0 && i < common {
		prefix = i + 1
	}
	if k := common - prefix + 1; k > n {
		n = k
	}
	return shortHex(a, n), shortHex(b, n)
}
