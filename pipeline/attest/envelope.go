package attest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
)

// MaxEnvelopeSize is the largest envelope Open reads and Sign writes: 4 MiB.
const MaxEnvelopeSize = 4 << 20

// Why an envelope did not open. Open's errors wrap one of them.
var (
	ErrEnvelopeTooLarge = errors.New("envelope larger than 4 MiB")
	ErrMalformed        = errors.New("malformed envelope")
	ErrPayloadType      = errors.New("wrong payloadType")
	ErrSignature        = errors.New("signature did not verify")
	ErrStatement        = errors.New("invalid in-toto statement")
	ErrPredicate        = errors.New("invalid predicate")
)

// Sign returns a DSSE envelope of statement, which must be an in-toto
// statement: payloadType application/vnd.in-toto+json, the statement in
// standard base64, one signature with an empty keyid, as cosign writes them.
func (s *Signer) Sign(ctx context.Context, statement []byte) ([]byte, error) {
	if base64.StdEncoding.EncodedLen(len(statement)) > MaxEnvelopeSize {
		return nil, fmt.Errorf("signing statement: %d bytes is too large for a %d-byte envelope", len(statement), MaxEnvelopeSize)
	}
	if _, err := parseStatement(statement); err != nil {
		return nil, fmt.Errorf("signing statement: %w", err)
	}
	es, err := dsse.NewEnvelopeSigner(&sigdsse.SignerAdapter{SignatureSigner: s.sv, Pub: s.pub})
	if err != nil {
		return nil, fmt.Errorf("signing statement: %w", err)
	}
	env, err := es.SignPayload(ctx, PayloadType, statement)
	if err != nil {
		return nil, fmt.Errorf("signing statement: %w", err)
	}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encoding envelope: %w", err)
	}
	if len(b) > MaxEnvelopeSize {
		return nil, fmt.Errorf("signing statement: %w (%d bytes)", ErrEnvelopeTooLarge, len(b))
	}
	return b, nil
}

// Open checks envelope as cosign verify-attestation --key does (the DSSE
// signature over the PAE of payloadType and payload, by v's key; the
// payloadType; the payload in standard base64) and parses its in-toto
// statement. Errors wrap ErrEnvelopeTooLarge, ErrMalformed, ErrPayloadType,
// ErrSignature or ErrStatement.
func (v *Verifier) Open(envelope []byte) (*Opened, error) {
	if len(envelope) > MaxEnvelopeSize {
		return nil, fmt.Errorf("%w (%d bytes)", ErrEnvelopeTooLarge, len(envelope))
	}
	var env dsse.Envelope
	if err := json.Unmarshal(envelope, &env); err != nil {
		return nil, fmt.Errorf("%w: not DSSE JSON: %v", ErrMalformed, err)
	}
	if env.PayloadType != PayloadType {
		return nil, fmt.Errorf("%w: payloadType %q is not %s", ErrPayloadType, clip(env.PayloadType, 80), PayloadType)
	}
	if len(env.Signatures) == 0 {
		return nil, fmt.Errorf("%w: no signatures", ErrMalformed)
	}
	// The DSSE library also takes URL-safe base64, but cosign reads the
	// statement with standard base64 only: so does this.
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not standard base64", ErrMalformed)
	}
	// As cosign: an adapter without a public key, so keyids are not
	// compared, and any one signature by the key is enough.
	ev, err := dsse.NewEnvelopeVerifier(&sigdsse.VerifierAdapter{SignatureVerifier: v.v})
	if err != nil {
		return nil, err
	}
	if _, err := ev.Verify(context.Background(), &env); err != nil {
		return nil, ErrSignature
	}
	o, err := parseStatement(payload)
	if err != nil {
		return nil, err
	}
	return o, nil
}
