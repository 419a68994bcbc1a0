// Package attest makes and checks the signed attestations that record why an
// image was promoted: in-toto Statements (v1) in DSSE envelopes, signed with a
// cosign key, so that
//
//	cosign verify-attestation --key cosign.pub \
//	  --type https://in-toto.io/attestation/test-result/v0.1 \
//	  --insecure-ignore-tlog REF
//
// accepts them. Storing envelopes in a registry is not this package's job: it
// produces and checks envelope bytes.
//
// # Statements
//
// Every statement has one subject, the promoted image: its repository as name
// and its manifest digest as {"sha256": "<hex>"}. Two predicates are made:
//
// TestResultType (https://in-toto.io/attestation/test-result/v0.1), the
// in-toto test-result predicate, with the field names of its specification:
//
//	result         "PASSED", "WARNED" or "FAILED"
//	configuration  ResourceDescriptors of what configured the run (at least
//	               one: the config file with its digest, the run)
//	url            link to the test run (optional)
//	passedTests    names of the tests that passed (optional)
//	warnedTests    names of the tests that passed with warnings (optional)
//	failedTests    names of the tests that failed (optional)
//
// PromotionType (https://github.com/slipway-ci/slipway/attestation/promotion/v1),
// Slipway's own predicate: the gate's verdict on the image. Every field is
// always present, as a string or an array of strings:
//
//	decision  the gate's verdict: "pass" (the image was promoted) or "block";
//	          other lowercase words may be added, and only "pass" promotes
//	mode      the gate mode applied: "no-regression" or "strict"
//	baseline  digest ("sha256:<hex>") of the image the candidate was compared
//	          with; "" when there was no baseline yet
//	reasons   the gate's reasons, one line each, blocking ones first (may be
//	          empty)
//	runId     the CI run that made the decision (may be "")
//	revision  the git commit the image was built from (may be "")
//	tags      the tags moved to the image by the promotion (empty when the
//	          decision is not "pass")
//	time      when the decision was made, RFC 3339 in UTC, seconds precision
//
// Statement bytes are deterministic: the same inputs give the same bytes, keys
// of objects sorted, no insignificant whitespace.
//
// # Keys and envelopes
//
// Keys are ECDSA P-256 or Ed25519, as PEM: PKCS #8 ("PRIVATE KEY"), SEC 1
// ("EC PRIVATE KEY") or cosign's password-encrypted form ("ENCRYPTED SIGSTORE
// PRIVATE KEY", and the older "ENCRYPTED COSIGN PRIVATE KEY"). Public keys are
// PKIX "PUBLIC KEY" PEM, as in cosign.pub.
//
// Envelopes are DSSE with payloadType application/vnd.in-toto+json, the
// statement as standard (padded) base64, and one signature over the DSSE PAE
// of type and statement: ASN.1 DER ECDSA over SHA-256, or pure Ed25519. The
// signature's keyid is empty, as cosign leaves it; verification, like
// cosign's, does not look at keyids.
package attest
