package attest

import (
	"errors"
	"fmt"
	"strings"
)

// Why a promotion did not verify. VerifyPromotion's policy failures are
// *PolicyError, which matches ErrNotVerified and one of the others (or
// ErrPredicate for a signed predicate that does not parse).
var (
	// ErrNotVerified matches every policy failure: a CLI exits 1 on it.
	ErrNotVerified = errors.New("promotion not verified")
	// ErrNoSignedAttestation: no envelope was signed by the key.
	ErrNoSignedAttestation = errors.New("no attestation signed by this key")
	// ErrSubjectMismatch: the signed statements are about another image.
	ErrSubjectMismatch = errors.New("attestation subject mismatch")
	// ErrPredicateMissing: no signed statement of a needed predicate type.
	ErrPredicateMissing = errors.New("predicate missing")
	// ErrDecisionNotPass: the promotion's decision is not "pass".
	ErrDecisionNotPass = errors.New("promotion decision is not pass")
	// ErrRevisionMismatch: the promotion is for another revision.
	ErrRevisionMismatch = errors.New("revision mismatch")
)

// Skipped is an envelope VerifyPromotion did not use, and why.
type Skipped struct {
	Index  int // in the envelopes given
	Reason string
}

// PolicyError is why VerifyPromotion refused, in one line.
type PolicyError struct {
	// Reason is ErrNoSignedAttestation, ErrSubjectMismatch,
	// ErrPredicateMissing, ErrDecisionNotPass, ErrRevisionMismatch or
	// ErrPredicate.
	Reason  error
	Msg     string
	Skipped []Skipped
}

func (e *PolicyError) Error() string { return e.Msg }

// Is makes errors.Is true for ErrNotVerified and for e.Reason.
func (e *PolicyError) Is(target error) bool {
	return target == ErrNotVerified || target == e.Reason
}

// Verified is a promotion whose attestations verified.
type Verified struct {
	Digest     string
	TestResult *TestResult
	Promotion  *Promotion
	// The statements the predicates came from.
	TestResultStatement, PromotionStatement *Opened
	// Skipped are the envelopes not used, and why.
	Skipped []Skipped
}

// VerifyPromotion checks that envelopes hold a test-result statement and a
// promotion statement, each signed by v's key and each with a subject whose
// sha256 is digest ("sha256:<hex>"); that the promotion's decision is
// "pass"; and, when revision is not "", that the promotion's revision is
// revision. Envelopes signed by other keys or of other predicate types are
// skipped, and the reasons kept. Of several passing promotions the latest
// is returned; of several test results the last.
//
// A refusal is a *PolicyError (errors.Is(err, ErrNotVerified)); a nil v or
// a malformed digest is a plain error.
func VerifyPromotion(v *Verifier, envelopes [][]byte, digest string, revision string) (*Verified, error) {
	if v == nil {
		return nil, errors.New("verifying promotion: no public key")
	}
	if err := checkDigest("digest", digest); err != nil {
		return nil, fmt.Errorf("verifying promotion: %w", err)
	}
	var (
		skipped        []Skipped
		signed         int
		results, proms []candidate
	)
	for i, env := range envelopes {
		o, err := v.Open(env)
		if err != nil {
			skipped = append(skipped, Skipped{i, err.Error()})
			continue
		}
		signed++
		switch o.PredicateType {
		case TestResultType:
			results = append(results, candidate{i, o})
		case PromotionType:
			proms = append(proms, candidate{i, o})
		default:
			skipped = append(skipped, Skipped{i, fmt.Sprintf("predicate type %s", clip(o.PredicateType, 80))})
		}
	}
	if signed == 0 {
		return nil, &PolicyError{Reason: ErrNoSignedAttestation, Skipped: skipped,
			Msg: fmt.Sprintf("no attestation signed by this key (%s)", summary(len(envelopes), "found", skipped))}
	}

	p, pst, fail := pickPromotion(proms, digest, revision, &skipped)
	if fail != nil {
		return nil, fail.policy(&skipped, "promotion")
	}
	tr, tst, fail := pickTestResult(results, digest, &skipped)
	if fail != nil {
		return nil, fail.policy(&skipped, "test-result")
	}
	return &Verified{
		Digest:              digest,
		TestResult:          tr,
		Promotion:           p,
		TestResultStatement: tst,
		PromotionStatement:  pst,
		Skipped:             skipped,
	}, nil
}

type candidate struct {
	index int
	o     *Opened
}

// failure is why a candidate statement was not used; of several, the one
// of the highest rank is reported.
type failure struct {
	reason error
	msg    string
	rank   int
}

const (
	rankSubject   = 1 // about another image
	rankPredicate = 2 // predicate does not parse
	rankPolicy    = 3 // decision or revision
)

// better reports whether f should be reported rather than g.
func (f *failure) better(g *failure) bool { return g == nil || f.rank > g.rank }

func (f *failure) policy(skipped *[]Skipped, what string) *PolicyError {
	if f.reason == ErrPredicateMissing {
		f.msg = what + " predicate missing"
		if len(*skipped) > 0 {
			f.msg += " (" + summary(len(*skipped), "skipped", *skipped) + ")"
		}
	}
	return &PolicyError{Reason: f.reason, Msg: f.msg, Skipped: *skipped}
}

func subjectFailure(o *Opened, what, digest string) *failure {
	got := o.firstSHA256()
	if got == "" {
		return &failure{ErrSubjectMismatch, fmt.Sprintf("%s attestation subject has no sha256 digest, want %s", what, shortHex(digest, 12)), rankSubject}
	}
	a, b := abbrevPair(got, digest, 12)
	return &failure{ErrSubjectMismatch, fmt.Sprintf("%s attestation subject %s is not %s", what, a, b), rankSubject}
}

func pickPromotion(cands []candidate, digest, revision string, skipped *[]Skipped) (*Promotion, *Opened, *failure) {
	var (
		best      *Promotion
		bestO     *Opened
		worst     *failure
		worstWhen *Promotion
	)
	for _, c := range cands {
		var f *failure
		p, err := c.o.Promotion()
		switch {
		case !c.o.HasSubject(digest):
			f = subjectFailure(c.o, "promotion", digest)
		case err != nil:
			f = &failure{ErrPredicate, err.Error(), rankPredicate}
		case p.Decision != DecisionPass:
			f = &failure{ErrDecisionNotPass, fmt.Sprintf("promotion decision is %q, not %s", clip(p.Decision, 40), DecisionPass), rankPolicy}
		case revision != "" && p.Revision == "":
			f = &failure{ErrRevisionMismatch, fmt.Sprintf("promotion records no revision, want %s", shortHex(revision, 7)), rankPolicy}
		case revision != "" && p.Revision != revision:
			a, b := abbrevPair(p.Revision, revision, 7)
			f = &failure{ErrRevisionMismatch, fmt.Sprintf("promotion revision is %s, want %s", clip(a, 80), clip(b, 80)), rankPolicy}
		}
		if f != nil {
			*skipped = append(*skipped, Skipped{c.index, f.msg})
			// Of policy failures, report the latest decision's.
			if f.better(worst) || (f.rank == rankPolicy && worst.rank == rankPolicy && p.Time.After(worstWhen.Time)) {
				worst, worstWhen = f, p
			}
			continue
		}
		if best == nil || !p.Time.Before(best.Time) {
			best, bestO = p, c.o
		}
	}
	if best != nil {
		return best, bestO, nil
	}
	if worst == nil {
		worst = &failure{reason: ErrPredicateMissing}
	}
	return nil, nil, worst
}

func pickTestResult(cands []candidate, digest string, skipped *[]Skipped) (*TestResult, *Opened, *failure) {
	var (
		best  *TestResult
		bestO *Opened
		worst *failure
	)
	for _, c := range cands {
		var f *failure
		tr, err := c.o.TestResult()
		switch {
		case !c.o.HasSubject(digest):
			f = subjectFailure(c.o, "test-result", digest)
		case err != nil:
			f = &failure{ErrPredicate, err.Error(), rankPredicate}
		}
		if f != nil {
			*skipped = append(*skipped, Skipped{c.index, f.msg})
			if f.better(worst) {
				worst = f
			}
			continue
		}
		best, bestO = tr, c.o
	}
	if best != nil {
		return best, bestO, nil
	}
	if worst == nil {
		worst = &failure{reason: ErrPredicateMissing}
	}
	return nil, nil, worst
}

// summary is "n found: reason; other reason" with distinct reasons in
// first-seen order, at most three.
func summary(n int, verb string, skipped []Skipped) string {
	if n == 0 {
		return "none " + verb
	}
	var reasons []string
	seen := map[string]bool{}
	for _, s := range skipped {
		if !seen[s.Reason] {
			seen[s.Reason] = true
			reasons = append(reasons, s.Reason)
		}
	}
	more := ""
	if len(reasons) > 3 {
		reasons, more = reasons[:3], "; …"
	}
	return fmt.Sprintf("%d %s: %s%s", n, verb, strings.Join(reasons, "; "), more)
}
